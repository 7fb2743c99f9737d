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
