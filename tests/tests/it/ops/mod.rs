//! Operating magflow: dead letters, queue controls, API keys and the audit log, request
//! limits and CORS, retention, and the metrics that the alert rules and the dashboard use.

mod dead_letters;
mod keys;
mod limits;
mod metrics;
mod queues;
mod retention;
