//! Cron schedules (issue 6, in progress on this branch): the spec and its fire times.
//! Still to come: the `schedules` and `schedule_fires` tables, the API, and the
//! scheduler loop in every worker that claims each (schedule, fire time) exactly once.

pub mod fire;
pub mod spec;
pub mod store;
