//! What every job handler gets: the database, the queue, the configuration.

use std::sync::Arc;

use sea_orm::DatabaseConnection;

use crate::{config::Config, queue::Queue};

#[derive(Clone, Debug)]
pub struct JobContext {
    pub db: DatabaseConnection,
    pub queue: Queue,
    pub config: Arc<Config>,
}
