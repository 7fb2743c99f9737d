use super::*;

#[test]
fn sliding_window_counts() {
    // (t − 1 s, t]: at 1,300 ms the window holds 400, 800, 1,000 and 1,300.
    assert_eq!(
        max_in_window(&[0.0, 400.0, 800.0, 1000.0, 1300.0], 1000.0),
        4
    );
    // At exactly 1,000 ms the request at 0 has left the window.
    assert_eq!(
        max_in_window(&[0.0, 400.0, 800.0, 1000.0, 2100.0], 1000.0),
        3
    );
    assert_eq!(max_in_window(&[0.0, 1.0, 2.0, 3.0], 1000.0), 4);
    assert_eq!(max_in_window(&[], 1000.0), 0);
}

#[tokio::test(start_paused = true)]
async fn local_limiter_spaces_requests_evenly() {
    let limiter = RateLimiter::local(Limits::EMAG);
    let start = tokio::time::Instant::now();
    let mut waited = Vec::new();
    for _ in 0..7 {
        waited.push(
            limiter
                .acquire("login", Bucket::Other)
                .await
                .expect("local never fails")
                .waited,
        );
    }
    // 7 requests at 3/s: slots 333 ms apart, and the 4th and 7th wait until the
    // 1st and 4th left a WINDOW before them.
    assert_eq!(start.elapsed(), WINDOW * 2);
    assert!(waited[0].is_zero());
    // Another login and the other bucket are independent.
    for (login, bucket) in [("other login", Bucket::Other), ("login", Bucket::Orders)] {
        let departure = limiter.acquire(login, bucket).await.expect("ok");
        assert!(departure.waited.is_zero(), "{login} {bucket:?}");
    }
}
