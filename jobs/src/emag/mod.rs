//! eMAG Marketplace: a typed client and a local simulator with the same contract
//! (`docs/emag.md`).
//!
//! - [`client`]: requests, tolerant parsing, error classification, retries, bulk chunking.
//! - [`rate_limit`]: one budget per login and bucket, shared by every process.
//! - [`wire`]: the thread requests are written on, so they leave when their slot comes.
//! - [`types`]: offers, orders, counts, per-item save outcomes.
//! - [`helpers`]: handling times, and eMAG products by EAN.
//! - [`sim`]: the simulator (a real HTTP server) used by tests, demos and benchmarks.

pub mod bulk;
pub mod client;
pub mod error;
pub mod helpers;
pub mod options;
pub mod rate_limit;
pub mod response;
#[cfg(feature = "simulator")]
pub mod sim;
pub mod types;
pub mod wire;

pub use client::{EmagClient, Login};
pub use error::EmagError;
pub use rate_limit::{Bucket, RateLimiter};
pub use wire::Wire;

use entity::emag_account::Platform;

/// The base URL of each eMAG platform's seller API.
pub fn platform_base_url(platform: Platform) -> &'static str {
    match platform {
        Platform::Ro => "https://marketplace-api.emag.ro/api-3",
        Platform::Bg => "https://marketplace-api.emag.bg/api-3",
        Platform::Hu => "https://marketplace-api.emag.hu/api-3",
    }
}

/// The currency eMAG states a platform's prices in; an account on a base URL of its own
/// (the simulator, a proxy) is taken as Romanian.
pub fn platform_currency(platform: Option<Platform>) -> &'static str {
    match platform {
        Some(Platform::Bg) => "BGN",
        Some(Platform::Hu) => "HUF",
        Some(Platform::Ro) | None => "RON",
    }
}
