//! A console page's data shared by every session of this process for a moment: the overview is
//! the same for everyone (language, theme and buttons are applied when it is rendered),
//! and twenty people watching it should cost one read of the database a second, not
//! twenty. One reader computes while the others wait for its result; a change made from
//! this process clears it.

use std::time::{Duration, Instant};

use minijinja::Value;
use tokio::sync::Mutex;

pub struct Snapshot {
    ttl: Duration,
    held: Mutex<Option<(Instant, Value)>>,
}

impl Snapshot {
    pub fn new(ttl: Duration) -> Snapshot {
        Snapshot {
            ttl,
            held: Mutex::new(None),
        }
    }

    /// The held value while it is fresh, else `compute`'s (kept when it succeeds).
    pub async fn get<E, F>(&self, compute: F) -> Result<Value, E>
    where
        F: AsyncFnOnce() -> Result<Value, E>,
    {
        let mut held = self.held.lock().await;
        if let Some((at, value)) = held.as_ref()
            && at.elapsed() < self.ttl
        {
            return Ok(value.clone());
        }
        let value = compute().await?;
        *held = Some((Instant::now(), value.clone()));
        Ok(value)
    }

    /// Forgets the held value: the next reader computes.
    pub async fn clear(&self) {
        *self.held.lock().await = None;
    }
}
