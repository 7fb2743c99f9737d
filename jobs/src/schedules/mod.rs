//! Cron schedules (issue 6, in progress on the `issue-6` branch).
//!
//! - [`spec`]: a schedule as an admin writes it, checked field by field; fire times.
//! - [`store`]: schedules as rows (create, replace, pause, resume, delete).
//! - [`fire`]: the scheduler's step, run by every worker: each (schedule, tick) claimed
//!   once, in the transaction that inserts its run.
//!
//! Left to do: a schedule's `notify` recipients (announce them with the subscriptions'),
//! a test that an edited expression takes effect within 2 s, README and OpenAPI text.

pub mod fire;
pub mod spec;
pub mod store;
