//! Cron schedules: a job template fired at each tick of a cron expression in a time zone,
//! exactly once however many worker processes run the scheduler.
//!
//! - [`spec`]: a schedule as an admin writes it, checked field by field; fire times.
//! - [`builder`]: the console's cron builder (every N minutes, daily at, weekly on, …).
//! - [`manage`]: create, replace, pause, resume, trigger, delete, each audited.
//! - [`store`]: schedules as rows (create, replace, pause, resume, delete).
//! - [`fire`]: the scheduler's step, run by every worker: each (schedule, tick) claimed
//!   once, in the transaction that inserts its run.

pub mod builder;
pub mod fire;
pub mod manage;
pub mod spec;
pub mod store;
