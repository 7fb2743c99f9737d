//! The thread eMAG requests are written and answered on.
//!
//! The rate limit records when a request leaves; eMAG counts when it arrives. On the
//! worker's runtime a request whose slot came could wait for a thread busy parsing or
//! storing an earlier page before hyper wrote it, and the limiter had to keep a margin
//! for that wait. On a thread of its own, which does nothing else (no parsing: answers
//! go back as bytes), a request is written when its slot comes.

use std::{future::Future, sync::Arc};

use tokio::{runtime::Handle, sync::oneshot};

use crate::spawned::Spawned;

/// A handle to the thread; it ends when the last handle is dropped (requests still on
/// it then fail as transport errors that may have reached eMAG).
#[derive(Clone)]
pub struct Wire(Arc<Running>);

struct Running {
    handle: Handle,
    // Dropped with the last handle: the thread's runtime stops.
    _stop: oneshot::Sender<()>,
}

impl Wire {
    pub fn start() -> std::io::Result<Wire> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name("emag-wire".into())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        Ok(Wire(Arc::new(Running {
            handle,
            _stop: stop,
        })))
    }

    /// Runs `future` on the thread; dropping the returned handle stops it there too.
    pub fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Spawned<T> {
        Spawned::on(&self.0.handle, future)
    }
}

impl std::fmt::Debug for Wire {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Wire")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_on_its_own_thread_and_stops_with_its_last_handle() {
        let wire = Wire::start().expect("wire");
        let here = std::thread::current().id();
        let there = wire
            .spawn(async { std::thread::current().id() })
            .await
            .expect("ran");
        assert_ne!(here, there);

        let (_hold, held) = oneshot::channel::<()>();
        let waiting = wire.spawn(async move {
            let _ = held.await;
        });
        drop(wire);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
            .await
            .expect("the thread stopped");
        assert!(ended.is_err(), "the task was cancelled, not completed");
    }
}
