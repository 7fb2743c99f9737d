//! Open streams (SSE and WebSocket) per API key: at most `MAGFLOW_API_STREAMS_PER_KEY`
//! (default 20) at once in one API process; the next gets 429. A [`Slot`] is held for as
//! long as its stream is open and given back when it is dropped, however the stream ends.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
};

use uuid::Uuid;

use crate::error::ApiError;

pub struct StreamSlots {
    per_key: usize,
    open: Mutex<HashMap<Uuid, usize>>,
}

/// One open stream of one key.
pub struct Slot {
    slots: Arc<StreamSlots>,
    key: Uuid,
}

impl StreamSlots {
    pub fn new(per_key: usize) -> StreamSlots {
        StreamSlots {
            per_key: per_key.max(1),
            open: Mutex::default(),
        }
    }

    pub fn take(self: &Arc<Self>, key: Uuid) -> Result<Slot, ApiError> {
        let mut open = self.open.lock().unwrap_or_else(|e| e.into_inner());
        let n = open.entry(key).or_insert(0);
        if *n >= self.per_key {
            return Err(ApiError::too_many_requests(
                format!(
                    "this key has {} streams open, the most it may; close one first",
                    self.per_key
                ),
                5,
            ));
        }
        *n += 1;
        Ok(Slot {
            slots: self.clone(),
            key,
        })
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let mut open = self.slots.open.lock().unwrap_or_else(|e| e.into_inner());
        if let Some(n) = open.get_mut(&self.key) {
            *n = n.saturating_sub(1);
            if *n == 0 {
                open.remove(&self.key);
            }
        }
    }
}
