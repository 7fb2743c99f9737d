//! A runtime on an OS thread of its own: for work that must not wait behind whatever
//! the worker's runtime threads are doing (eMAG requests, [`crate::emag::Wire`]), and
//! for CPU work that must not hold those threads (a sync's pages parsed and prepared).

use std::{future::Future, sync::Arc};

use tokio::{runtime::Handle, sync::oneshot};

use crate::spawned::Spawned;

/// A handle to the thread; it ends when the last handle is dropped (tasks still on it
/// then stop where they are).
#[derive(Clone)]
pub struct Thread(Arc<Running>);

struct Running {
    handle: Handle,
    // Dropped with the last handle: the thread's runtime stops.
    _stop: oneshot::Sender<()>,
}

impl Thread {
    /// Starts the thread, named `name` (as `top` and `perf` show it).
    pub fn start(name: &str) -> std::io::Result<Thread> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Thread::run(name, runtime)
    }

    /// Starts `threads` threads named `name` that share the tasks given them.
    pub fn pool(name: &str, threads: usize) -> std::io::Result<Thread> {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(threads)
            .thread_name(name)
            .enable_all()
            .build()?;
        Thread::run(name, runtime)
    }

    fn run(name: &str, runtime: tokio::runtime::Runtime) -> std::io::Result<Thread> {
        let handle = runtime.handle().clone();
        let (stop, stopped) = oneshot::channel::<()>();
        std::thread::Builder::new()
            .name(name.to_owned())
            .spawn(move || {
                runtime.block_on(async {
                    let _ = stopped.await;
                });
            })?;
        Ok(Thread(Arc::new(Running {
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

impl std::fmt::Debug for Thread {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("Thread")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn runs_on_its_own_thread_and_stops_with_its_last_handle() {
        stops_with_its_last_handle(Thread::start("test").expect("thread")).await;
    }

    #[tokio::test]
    async fn a_pool_runs_on_its_own_threads_and_stops_with_its_last_handle() {
        let pool = Thread::pool("test-pool", 2).expect("pool");
        // Two tasks that each wait for the other run at once, on two threads.
        let (a_tx, a_rx) = std::sync::mpsc::channel::<()>();
        let (b_tx, b_rx) = std::sync::mpsc::channel::<()>();
        let timeout = std::time::Duration::from_secs(10);
        let a = pool.spawn(async move {
            a_tx.send(()).expect("send");
            b_rx.recv_timeout(timeout).is_ok()
        });
        let b = pool.spawn(async move {
            b_tx.send(()).expect("send");
            a_rx.recv_timeout(timeout).is_ok()
        });
        assert!(a.await.expect("a ran") && b.await.expect("b ran"));
        stops_with_its_last_handle(pool).await;
    }

    async fn stops_with_its_last_handle(thread: Thread) {
        let here = std::thread::current().id();
        let there = thread
            .spawn(async { std::thread::current().id() })
            .await
            .expect("ran");
        assert_ne!(here, there);

        let (_hold, held) = oneshot::channel::<()>();
        let waiting = thread.spawn(async move {
            let _ = held.await;
        });
        drop(thread);
        let ended = tokio::time::timeout(std::time::Duration::from_secs(10), waiting)
            .await
            .expect("the thread stopped");
        assert!(ended.is_err(), "the task was cancelled, not completed");
    }
}
