//! The thread eMAG requests are written and answered on.
//!
//! The rate limit records when a request leaves; eMAG counts when it arrives. On the
//! worker's runtime a request whose slot came could wait for a thread busy parsing or
//! storing an earlier page before hyper wrote it, and the limiter had to keep a margin
//! for that wait. On a thread of its own, which does nothing else (no parsing: answers
//! go back as bytes), a request is written when its slot comes.

use std::future::Future;

use crate::{spawned::Spawned, thread::Thread};

/// A handle to the thread; it ends when the last handle is dropped (requests still on
/// it then fail as transport errors that may have reached eMAG).
#[derive(Clone, Debug)]
pub struct Wire(Thread);

impl Wire {
    pub fn start() -> std::io::Result<Wire> {
        Thread::start("emag-wire").map(Wire)
    }

    /// Runs `future` on the thread; dropping the returned handle stops it there too.
    pub fn spawn<T: Send + 'static>(
        &self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Spawned<T> {
        self.0.spawn(future)
    }
}
