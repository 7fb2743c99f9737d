//! Recently checked API keys, for two seconds: a dashboard wall polling `/api/v1/status`
//! would otherwise cost a database read per request for the key alone. A revoked key
//! keeps working for at most those two seconds in a process that saw it just before.

use std::{
    collections::HashMap,
    sync::Mutex,
    time::{Duration, Instant},
};

use jobs::api_keys::Principal;

const TTL: Duration = Duration::from_secs(2);
/// Bounded memory whatever callers send: the map is emptied when it grows past this.
const MAX_ENTRIES: usize = 10_000;

#[derive(Default)]
pub struct KeyCache {
    /// SHA-256 of the key → who it is, and when that was checked.
    entries: Mutex<HashMap<String, (Principal, Instant)>>,
}

impl KeyCache {
    pub fn get(&self, key_hash: &str) -> Option<Principal> {
        let entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries
            .get(key_hash)
            .filter(|(_, at)| at.elapsed() < TTL)
            .map(|(p, _)| p.clone())
    }

    /// Drops key `id` (revoked or rotated here), so this process stops accepting it at once.
    pub fn forget_key(&self, id: uuid::Uuid) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        entries.retain(|_, (p, _)| p.key_id != id);
    }

    pub fn put(&self, key_hash: String, principal: Principal) {
        let mut entries = self.entries.lock().unwrap_or_else(|e| e.into_inner());
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key_hash, (principal, Instant::now()));
    }
}
