//! SeaORM models, one file per table. Only sea-orm and serde here: no web, queue or
//! eMAG types, so every other crate can depend on this one.

#[macro_use]
mod stored_enum;

pub mod analytics_dirty;
pub mod api_key;
pub mod audit_log;
pub mod bulk_item;
pub mod console_session;
pub mod console_upload;
pub mod emag_account;
pub mod email_suppression;
pub mod job_run;
pub mod notification_subscription;
pub mod offer;
pub mod order;
pub mod order_line;
pub mod prelude;
pub mod product_sales_daily;
pub mod queue_control;
pub mod run_event;
pub mod sales_daily;
pub mod schedule;
pub mod schedule_fire;
pub mod stock_daily;
pub mod sync_state;
pub mod user;
