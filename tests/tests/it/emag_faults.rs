//! 10% injected 5xx (half with HTML bodies; also every 9th request) and timeouts: every
//! call still ends with success or the right category, and nothing that is not retryable
//! is sent twice.

use std::{sync::atomic::Ordering, time::Duration};

use jobs::emag::{
    EmagClient, EmagError, Login,
    client::ClientOptions,
    rate_limit::RateLimiter,
    sim::{Faults, LimitMode, SimConfig, Simulator},
};
use serde_json::json;

fn client(sim: &Simulator, user: &str, password: &str) -> EmagClient {
    let login = Login {
        base_url: sim.base_url.clone(),
        username: user.into(),
        password: password.into(),
    };
    let options = ClientOptions {
        timeout: Duration::from_millis(400),
        max_attempts: 8,
        backoff_base: Duration::from_millis(10),
        backoff_max: Duration::from_millis(50),
        penalty: Duration::ZERO,
    };
    EmagClient::new(&login, RateLimiter::off(), options).expect("client")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn faults_end_in_success_or_the_right_category() {
    let faults = Faults {
        error_rate: 0.1,
        html_share: 0.5,
        hang_rate: 0.05,
        hang_ms: 1500,
        // On top of the random ones, so that faults are certain to be met.
        error_every: 9,
        ..Faults::default()
    };
    let config = SimConfig {
        offers: 300,
        orders: 50,
        limits: LimitMode::Off,
        faults,
        ..SimConfig::default()
    };
    let sim = Simulator::start(config, "127.0.0.1:0")
        .await
        .expect("simulator");
    let main = client(&sim, "main", "main-secret");

    // Retryable trouble is retried until it passes.
    let mut ids = std::collections::BTreeSet::new();
    for page in 1..=4 {
        for item in main
            .read_page("product_offer", &json!({}), page, 100)
            .await
            .expect("page read despite faults")
        {
            ids.insert(item["id"].to_string());
        }
    }
    assert_eq!(ids.len(), 300, "every offer exactly once");
    for _ in 0..30 {
        main.count("order", &json!({ "type": 3 }))
            .await
            .expect("count despite faults");
    }
    assert!(
        main.stats().retries.load(Ordering::Relaxed) > 0,
        "faults were met and retried"
    );

    // What is not retryable is sent once per call, even while 5xx come and go. Hangs are
    // turned off here: after a timeout the client cannot know whether eMAG answered, so
    // it asks again, and the abandoned request may still be logged with the same answer.
    sim.state.faults.lock().expect("faults").hang_rate = 0.0;
    let before = sim.state.requests(0).len();
    let wrong = client(&sim, "fbe", "not-the-password");
    for _ in 0..10 {
        let err = wrong
            .count("product_offer", &json!({}))
            .await
            .expect_err("refused");
        assert!(matches!(err, EmagError::BadCredentials { .. }), "{err:?}");
    }
    for _ in 0..10 {
        let err = main
            .offer_stock(987_654_321, 1)
            .await
            .expect_err("unknown offer");
        assert!(matches!(err, EmagError::NotFound { .. }), "{err:?}");
    }
    let log = sim.state.requests(before);
    assert_eq!(
        log.iter().filter(|r| r.status == 401).count(),
        10,
        "one 401 per call, never repeated"
    );
    assert_eq!(
        log.iter().filter(|r| r.status == 404).count(),
        10,
        "one 404 per call, never repeated"
    );
}
