//! Contract checks 7–11: auth, limits, server trouble; and the limiter against them.

use std::time::Duration;

use jobs::emag::{
    EmagError,
    client::ClientOptions,
    rate_limit::{Limits, RateLimiter},
    sim::{Faults, LimitMode, SimConfig},
};
use serde_json::json;

use super::*;

#[tokio::test]
async fn c07_auth_and_ip() {
    let sim = sim(config(LimitMode::Off)).await;
    let bad = client_for(&sim, "main", "wrong", RateLimiter::off(), fast());
    let err = bad
        .count("product_offer", &json!({}))
        .await
        .expect_err("refused");
    assert!(
        matches!(err, EmagError::BadCredentials { .. }) && !err.is_retryable(),
        "{err:?}"
    );
    assert_eq!(
        bad.stats()
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        1,
        "not retried"
    );
    let (status, _, body) = raw(
        &sim,
        "nobody",
        "product_offer/read",
        "application/json",
        "{}",
    )
    .await;
    assert_eq!(status, 401);
    assert!(body.contains("You are not allowed to use this API."));
    tests::sim_admin(&sim, "ip-block", &json!({"login": "main", "blocked": true})).await;
    let err = main_client(&sim)
        .count("product_offer", &json!({}))
        .await
        .expect_err("ip refused");
    assert!(
        matches!(err, EmagError::IpNotWhitelisted { .. }) && !err.is_retryable(),
        "{err:?}"
    );
}

#[tokio::test]
async fn c08_rate_limit_429() {
    let sim = sim(config(LimitMode::Emag)).await;
    let mut statuses = Vec::new();
    for _ in 0..4 {
        let (status, headers, body) = raw(&sim, "main", "vat/read", "application/json", "{}").await;
        statuses.push(status);
        if status == 429 {
            assert_eq!(
                body, r#"{"message":"API rate limit exceeded"}"#,
                "no envelope on 429"
            );
            assert!(
                headers.contains_key("x-ratelimit-limit-3second")
                    && headers.contains_key("x-ratelimit-remaining-3second")
            );
        }
    }
    assert_eq!(statuses, vec![200, 200, 200, 429]);
    // Order routes have their own 12/s.
    for _ in 0..6 {
        let (status, _, _) = raw(
            &sim,
            "main",
            "order/count",
            "application/json",
            r#"{"type":3}"#,
        )
        .await;
        assert_eq!(status, 200);
    }
    // Invalid requests count too: bad credentials for "fbe" use up fbe's budget.
    for _ in 0..3 {
        let resp = reqwest::Client::new()
            .post(format!("{}/vat/read", sim.base_url))
            .basic_auth("fbe", Some("wrong"))
            .send()
            .await
            .expect("sent");
        assert_eq!(resp.status(), 401);
    }
    let (status, _, _) = raw(&sim, "fbe", "vat/read", "application/json", "{}").await;
    assert_eq!(status, 429);
    // A client without a limiter gets 429s, backs off and gets through.
    let patient = ClientOptions {
        max_attempts: 6,
        backoff_base: Duration::from_millis(300),
        backoff_max: Duration::from_secs(1),
        ..fast()
    };
    let eager = client_for(&sim, "main", "main-secret", RateLimiter::off(), patient);
    for _ in 0..6 {
        eager.vat_read().await.expect("retried past 429");
    }
    assert!(
        eager
            .stats()
            .rate_limited
            .load(std::sync::atomic::Ordering::Relaxed)
            > 0
    );
}

#[tokio::test]
async fn c09_non_order_routes_share_one_budget() {
    let sim = sim(config(LimitMode::Emag)).await;
    let http = reqwest::Client::new();
    let offer_id = main_client(&sim)
        .read_page("product_offer", &json!({}), 1, 1)
        .await;
    // The read above used one of main's three; use another login's fresh budget instead.
    drop(offer_id);
    let fbe_first = client_for(&sim, "fbe", "fbe-secret", RateLimiter::off(), fast())
        .read_page("product_offer", &json!({}), 1, 1)
        .await
        .expect("read");
    let id = fbe_first[0]["id"].to_string().trim_matches('"').to_owned();
    let calls = [
        http.post(format!("{}/offer/save", sim.base_url))
            .basic_auth("fbe", Some("fbe-secret"))
            .json(&json!([{"id": id}])),
        http.patch(format!("{}/offer_stock/{id}", sim.base_url))
            .basic_auth("fbe", Some("fbe-secret"))
            .json(&json!({"stock": 1})),
        http.post(format!("{}/category/read", sim.base_url))
            .basic_auth("fbe", Some("fbe-secret"))
            .json(&json!({})),
    ];
    let mut statuses = Vec::new();
    for call in calls {
        statuses.push(call.send().await.expect("sent").status().as_u16());
    }
    assert!(
        statuses.contains(&429),
        "the 4th non-order call within a second is refused: {statuses:?}"
    );
}

#[tokio::test]
async fn c10_server_errors_and_html() {
    let sim = sim(SimConfig {
        faults: Faults {
            error_rate: 1.0,
            html_share: 1.0,
            ..Faults::default()
        },
        ..config(LimitMode::Off)
    })
    .await;
    let client = main_client(&sim);
    let err = client
        .count("product_offer", &json!({}))
        .await
        .expect_err("always 5xx");
    assert!(matches!(err, EmagError::Server { .. }), "{err:?}");
    assert_eq!(
        client
            .stats()
            .requests
            .load(std::sync::atomic::Ordering::Relaxed),
        4,
        "retried up to max_attempts"
    );
    tests::sim_admin(
        &sim,
        "faults",
        &json!({"error_rate": 0.3, "html_share": 0.5}),
    )
    .await;
    let ok_client = client_for(
        &sim,
        "main",
        "main-secret",
        RateLimiter::off(),
        ClientOptions {
            max_attempts: 10,
            ..fast()
        },
    );
    let count = ok_client
        .count("product_offer", &json!({}))
        .await
        .expect("eventually succeeds");
    let ids = all_ids(&ok_client, "product_offer", &json!({})).await;
    assert_eq!(
        ids.len() as u64,
        count.items,
        "no page lost or doubled under faults"
    );
}

#[tokio::test]
async fn c11_latency_and_timeouts() {
    let sim = sim(SimConfig {
        faults: Faults {
            latency_ms: (100, 200),
            ..Faults::default()
        },
        ..config(LimitMode::Off)
    })
    .await;
    main_client(&sim)
        .count("product_offer", &json!({}))
        .await
        .expect("slow but fine");
    tests::sim_admin(&sim, "faults", &json!({"hang_rate": 1.0, "hang_ms": 3000})).await;
    let impatient = client_for(
        &sim,
        "main",
        "main-secret",
        RateLimiter::off(),
        ClientOptions {
            timeout: Duration::from_millis(500),
            max_attempts: 2,
            ..fast()
        },
    );
    let err = impatient
        .count("product_offer", &json!({}))
        .await
        .expect_err("times out");
    assert_eq!(err, EmagError::Timeout);
    assert!(err.is_retryable());
}

#[tokio::test]
async fn shared_limiter_keeps_one_client_under_the_limit() {
    let sim = sim(config(LimitMode::Emag)).await;
    let limiter = RateLimiter::local(Limits::EMAG);
    let client = client_for(&sim, "main", "main-secret", limiter, fast());
    for _ in 0..7 {
        client.vat_read().await.expect("never 429");
    }
    assert_eq!(
        client
            .stats()
            .rate_limited
            .load(std::sync::atomic::Ordering::Relaxed),
        0
    );
    assert!(
        client
            .stats()
            .rate_limit_waits
            .load(std::sync::atomic::Ordering::Relaxed)
            >= 5
    );
    assert!(sim.state.requests(0).iter().all(|r| r.status != 429));
}
