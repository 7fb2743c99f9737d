//! A local eMAG: a real HTTP server (poem) with eMAG's routes, body encodings, Basic auth,
//! per-login seeded data, the documented limits, and fault injection. Tests, demos and
//! benchmarks talk to it over real HTTP with the real client.
//!
//! - [`config`]: what to simulate (logins, sizes, limits, faults, UNCERTAIN options).
//! - [`data`]: the seeded, deterministic catalogue and orders.
//! - [`body`]: the four body encodings, normalised to one JSON value.
//! - [`state`]: per-login data, rate windows, faults and the request log.
//! - [`server`]: the routes. [`callbacks`]: eMAG calling the seller back.

mod admin;
pub mod body;
pub mod callbacks;
pub mod config;
pub mod data;
mod helpers;
mod order_writes;
mod reads;
pub mod server;
pub mod state;
mod texts;
mod writes;

use std::sync::Arc;

use poem::listener::{Acceptor, Listener, TcpListener};
use tokio_util::sync::CancellationToken;

pub use config::{Faults, LimitMode, SimConfig, SimLogin};
pub use state::SimState;

/// A running simulator.
pub struct Simulator {
    pub state: Arc<SimState>,
    /// The base URL clients use, e.g. `http://127.0.0.1:41234/api-3`.
    pub base_url: String,
    stop: CancellationToken,
}

impl Simulator {
    /// Starts on `bind` (use `127.0.0.1:0` for a free port).
    pub async fn start(config: SimConfig, bind: &str) -> std::io::Result<Simulator> {
        let state = Arc::new(SimState::new(config));
        let acceptor = TcpListener::bind(bind.to_owned()).into_acceptor().await?;
        let addr = acceptor
            .local_addr()
            .first()
            .and_then(|a| a.as_socket_addr().copied())
            .ok_or_else(|| std::io::Error::other("no local address"))?;
        let stop = CancellationToken::new();
        let app = server::app(state.clone());
        let signal = stop.clone();
        tokio::spawn(async move {
            let _ = poem::Server::new_with_acceptor(acceptor)
                .run_with_graceful_shutdown(
                    app,
                    async move { signal.cancelled().await },
                    Some(std::time::Duration::from_secs(1)),
                )
                .await;
        });
        Ok(Simulator {
            state,
            base_url: format!("http://{addr}/api-3"),
            stop,
        })
    }

    /// The admin endpoints' base (faults, mutations, request log).
    pub fn admin_url(&self) -> String {
        self.base_url.replace("/api-3", "/__sim")
    }

    pub fn stop(&self) {
        self.stop.cancel();
    }
}

impl Drop for Simulator {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}
