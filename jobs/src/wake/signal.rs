//! A wake-up flag that an apalis poll strategy reads as a stream.

use std::{
    pin::Pin,
    sync::{
        Arc,
        atomic::{AtomicBool, AtomicU64, Ordering},
    },
    task::{Context, Poll},
};

use futures::{Stream, task::AtomicWaker};

/// Fired from any thread; yields once per burst of fires (they coalesce while nobody
/// reads), so a thousand pushes in a row cost a parked worker one fetch, not a thousand.
#[derive(Clone, Default)]
pub struct Signal(Arc<Inner>);

#[derive(Default)]
struct Inner {
    set: AtomicBool,
    waker: AtomicWaker,
    fired: AtomicU64,
}

impl Signal {
    pub fn fire(&self) {
        self.0.fired.fetch_add(1, Ordering::Relaxed);
        self.0.set.store(true, Ordering::Release);
        self.0.waker.wake();
    }

    /// How many times it has fired: for tests and figures.
    pub fn fired(&self) -> u64 {
        self.0.fired.load(Ordering::Relaxed)
    }
}

impl std::fmt::Debug for Signal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Signal")
            .field("fired", &self.fired())
            .finish()
    }
}

impl Stream for Signal {
    type Item = ();

    fn poll_next(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Option<()>> {
        let inner = &self.0;
        if inner.set.swap(false, Ordering::AcqRel) {
            return Poll::Ready(Some(()));
        }
        // Register before looking again, or a fire in between would be missed.
        inner.waker.register(cx.waker());
        if inner.set.swap(false, Ordering::AcqRel) {
            Poll::Ready(Some(()))
        } else {
            Poll::Pending
        }
    }
}

#[cfg(test)]
mod tests {
    use futures::StreamExt;

    use super::*;

    #[tokio::test]
    async fn fires_coalesce_and_wake_a_waiting_reader() {
        let signal = Signal::default();
        signal.fire();
        signal.fire();
        let mut reader = signal.clone();
        assert_eq!(reader.next().await, Some(()));
        // Both fires were read as one.
        let again = tokio::time::timeout(std::time::Duration::from_millis(20), reader.next());
        assert!(again.await.is_err());
        let waiting = tokio::spawn(async move { reader.next().await });
        signal.fire();
        let woke = tokio::time::timeout(std::time::Duration::from_secs(5), waiting).await;
        assert_eq!(woke.expect("woken").expect("joined"), Some(()));
        assert_eq!(signal.fired(), 3);
    }
}
