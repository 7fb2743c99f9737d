//! A spawned task that stops when its handle is dropped (a run cancelled, shut down or
//! failed), for requests sent ahead of need. Spawned rather than merely pushed into a
//! stream: a request's future then runs on its own, so one that has its rate-limit slot
//! leaves at once, even while the caller is busy writing an earlier answer.

use std::{
    future::Future,
    pin::Pin,
    task::{Context, Poll},
};

use tokio::task::{JoinError, JoinHandle};

pub struct Spawned<T>(JoinHandle<T>);

impl<T: Send + 'static> Spawned<T> {
    pub fn new(future: impl Future<Output = T> + Send + 'static) -> Spawned<T> {
        Spawned(tokio::spawn(future))
    }

    /// On another runtime than the caller's.
    pub fn on(
        runtime: &tokio::runtime::Handle,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Spawned<T> {
        Spawned(runtime.spawn(future))
    }
}

impl<T> Spawned<T> {
    /// Whether it has ended, so that awaiting it returns at once.
    pub fn is_finished(&self) -> bool {
        self.0.is_finished()
    }
}

impl<T> Drop for Spawned<T> {
    fn drop(&mut self) {
        self.0.abort();
    }
}

impl<T> Future for Spawned<T> {
    type Output = Result<T, JoinError>;

    fn poll(mut self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<Self::Output> {
        Pin::new(&mut self.0).poll(cx)
    }
}

/// Requests spawned so that they ask for their rate-limit slots in the order they were
/// spawned: each task starts only once the one before it has been polled once, which
/// for an eMAG request is when it asks the limiter for a slot (the limiter serves in the
/// order asked). Without it the runtime may start the last-spawned first, and the page
/// the caller needs first leaves last.
#[derive(Default)]
pub struct InOrder {
    last: Option<tokio::sync::oneshot::Receiver<()>>,
}

impl InOrder {
    pub fn spawn<T: Send + 'static>(
        &mut self,
        future: impl Future<Output = T> + Send + 'static,
    ) -> Spawned<T> {
        let (asked, next) = tokio::sync::oneshot::channel();
        let before = self.last.replace(next);
        Spawned::new(async move {
            if let Some(before) = before {
                // An error: the task before it ended without a poll (aborted); go on.
                let _ = before.await;
            }
            let mut future = std::pin::pin!(future);
            let first = futures::poll!(future.as_mut());
            let _ = asked.send(());
            match first {
                Poll::Ready(value) => value,
                Poll::Pending => future.await,
            }
        })
    }
}

#[cfg(test)]
mod tests {
    use std::sync::{Arc, Mutex};

    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn tasks_start_in_the_order_spawned() {
        let order = Arc::new(Mutex::new(Vec::new()));
        let mut queue = InOrder::default();
        let tasks: Vec<_> = (0..50)
            .map(|i| {
                let order = order.clone();
                queue.spawn(async move {
                    order.lock().expect("lock").push(i);
                    tokio::task::yield_now().await;
                    i
                })
            })
            .collect();
        for (i, task) in tasks.into_iter().enumerate() {
            assert_eq!(task.await.expect("task"), i);
        }
        assert_eq!(*order.lock().expect("lock"), (0..50).collect::<Vec<_>>());
    }
}
