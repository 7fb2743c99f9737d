//! The 22 contract checks of emag-api.md §6: the real client against the simulator over
//! real HTTP. Numbered as in the contract.

use std::time::Duration;

use jobs::emag::{
    EmagClient, EmagError, Login,
    client::ClientOptions,
    rate_limit::{Limits, RateLimiter},
    sim::{Faults, LimitMode, SimConfig, Simulator},
    types::{Count, FlagOrList, Offer, OfferUpdate, Order, WarehouseValue},
};
use serde_json::{Value, json};

fn config(limits: LimitMode) -> SimConfig {
    SimConfig {
        offers: 250,
        orders: 230,
        limits,
        ..SimConfig::default()
    }
}

async fn sim(config: SimConfig) -> Simulator {
    tests::install_tls_provider();
    Simulator::start(config, "127.0.0.1:0")
        .await
        .expect("simulator starts")
}

fn fast() -> ClientOptions {
    ClientOptions {
        timeout: Duration::from_secs(5),
        max_attempts: 4,
        backoff_base: Duration::from_millis(20),
        backoff_max: Duration::from_millis(200),
        penalty: Duration::from_millis(400),
    }
}

fn client_for(
    sim: &Simulator,
    user: &str,
    password: &str,
    limiter: RateLimiter,
    options: ClientOptions,
) -> EmagClient {
    let login = Login {
        base_url: sim.base_url.clone(),
        username: user.into(),
        password: password.into(),
    };
    EmagClient::new(&login, limiter, options).expect("client")
}

fn main_client(sim: &Simulator) -> EmagClient {
    client_for(sim, "main", "main-secret", RateLimiter::off(), fast())
}

/// A raw request, to see exactly what the simulator sends back.
async fn raw(
    sim: &Simulator,
    user: &str,
    route: &str,
    content_type: &str,
    body: &str,
) -> (u16, reqwest::header::HeaderMap, String) {
    let resp = reqwest::Client::new()
        .post(format!("{}/{route}", sim.base_url))
        .basic_auth(user, Some(format!("{user}-secret")))
        .header("content-type", content_type)
        .body(body.to_owned())
        .send()
        .await
        .expect("sent");
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    (status, headers, resp.text().await.expect("body"))
}

async fn all_ids(client: &EmagClient, resource: &str, filter: &Value) -> Vec<u64> {
    let mut ids = Vec::new();
    for page in 1.. {
        let items = client
            .read_page(resource, filter, page, 100)
            .await
            .expect("page");
        if items.is_empty() {
            break;
        }
        ids.extend(items.iter().map(|v| {
            v["id"]
                .as_u64()
                .or_else(|| v["id"].as_str().and_then(|s| s.parse().ok()))
                .expect("id")
        }));
    }
    ids
}

#[tokio::test]
async fn c01_read_envelope_and_c02_past_the_end() {
    let sim = sim(config(LimitMode::Off)).await;
    let (status, _, body) = raw(
        &sim,
        "main",
        "product_offer/read",
        "application/json",
        r#"{"currentPage":1,"itemsPerPage":5}"#,
    )
    .await;
    assert_eq!(status, 200);
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["isError"], false);
    assert!(v["messages"].is_array() && v["results"].as_array().map(Vec::len) == Some(5));
    assert!(
        v["errors"].is_array(),
        "extra keys are present and must not bother the client"
    );
    let client = main_client(&sim);
    assert_eq!(
        client
            .read_page("product_offer", &json!({}), 1, 5)
            .await
            .expect("read")
            .len(),
        5
    );
    let count: Count = client
        .count("product_offer", &json!({}))
        .await
        .expect("count");
    let past = client
        .read_page("product_offer", &json!({}), (count.pages + 1) as u32, 100)
        .await
        .expect("past the end");
    assert!(past.is_empty());
}

#[tokio::test]
async fn c03_count_matches_the_pages() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let (_, _, body) = raw(
        &sim,
        "main",
        "product_offer/count",
        "application/json",
        "{}",
    )
    .await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert!(
        v["results"]["noOfItems"].is_string(),
        "counts come as strings: {v}"
    );
    for (resource, filter) in [("product_offer", json!({})), ("order", json!({"type": 3}))] {
        let count = client.count(resource, &filter).await.expect("count");
        assert_eq!(count.pages, count.items.div_ceil(count.per_page));
        let ids = all_ids(&client, resource, &filter).await;
        let distinct: std::collections::HashSet<_> = ids.iter().collect();
        assert_eq!(distinct.len() as u64, count.items, "{resource}");
        assert_eq!(ids.len() as u64, count.items);
    }
}

#[tokio::test]
async fn c04_items_per_page_bounds() {
    let clamp = sim(config(LimitMode::Off)).await;
    let (_, _, body) = raw(
        &clamp,
        "main",
        "product_offer/read",
        "application/json",
        r#"{"itemsPerPage":150}"#,
    )
    .await;
    let v: Value = serde_json::from_str(&body).expect("json");
    assert_eq!(v["results"].as_array().map(Vec::len), Some(100), "clamped");
    // The client never asks for more than 100.
    assert_eq!(
        main_client(&clamp)
            .read_page("product_offer", &json!({}), 1, 500)
            .await
            .expect("read")
            .len(),
        100
    );
    let reject = sim(SimConfig {
        reject_page_size: true,
        ..config(LimitMode::Off)
    })
    .await;
    let (_, _, body) = raw(
        &reject,
        "main",
        "product_offer/read",
        "application/json",
        r#"{"itemsPerPage":0}"#,
    )
    .await;
    assert!(body.contains(r#""isError":true"#), "{body}");
}

#[tokio::test]
async fn c05_filters() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let active = all_ids(&client, "product_offer", &json!({"status": 1})).await;
    let inactive = all_ids(&client, "product_offer", &json!({"status": 0})).await;
    assert_eq!(active.len() + inactive.len(), 250);
    let first = client
        .read_page("product_offer", &json!({}), 1, 1)
        .await
        .expect("read")
        .remove(0);
    let offer: Offer = serde_json::from_value(first.clone()).expect("offer");
    for filter in [
        json!({"id": offer.id}),
        json!({"part_number": offer.part_number}),
        json!({"part_number_key": offer.part_number_key}),
    ] {
        let found = client
            .read_page("product_offer", &filter, 1, 100)
            .await
            .expect("filtered");
        assert_eq!(found.len(), 1, "{filter}");
    }
    let by_list = all_ids(&client, "order", &json!({"type": 3, "status": [1, 2]})).await;
    let one = all_ids(&client, "order", &json!({"type": 3, "status": 1})).await;
    let two = all_ids(&client, "order", &json!({"type": 3, "status": 2})).await;
    assert_eq!(by_list.len(), one.len() + two.len());
    let now = chrono::Utc::now().naive_utc();
    let fmt = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let window = json!({"type": 3, "createdAfter": fmt(now - chrono::Duration::days(30)), "createdBefore": fmt(now)});
    let recent = all_ids(&client, "order", &window).await;
    assert!(!recent.is_empty() && recent.len() < 230);
    let bad = client
        .read_page("order", &json!({"createdBefore": fmt(now)}), 1, 100)
        .await;
    assert!(matches!(bad, Err(EmagError::Validation { .. })), "{bad:?}");
    let too_long = client.read_page("order", &json!({"createdAfter": fmt(now - chrono::Duration::days(40)), "createdBefore": fmt(now)}), 1, 100).await;
    assert!(
        matches!(too_long, Err(EmagError::Validation { .. })),
        "{too_long:?}"
    );
}

#[tokio::test]
async fn c06_four_encodings_agree() {
    let sim = sim(config(LimitMode::Off)).await;
    let bodies = [
        (
            "application/json",
            r#"{"currentPage":2,"itemsPerPage":7,"status":1}"#,
        ),
        (
            "application/json",
            r#"{"data":{"currentPage":2,"itemsPerPage":7,"status":1}}"#,
        ),
        (
            "application/x-www-form-urlencoded",
            "data%5BcurrentPage%5D=2&data%5BitemsPerPage%5D=7&data%5Bstatus%5D=1",
        ),
        (
            "application/x-www-form-urlencoded",
            "currentPage=2&itemsPerPage=7&status=1",
        ),
    ];
    let mut results = Vec::new();
    for (ct, body) in bodies {
        let (status, _, text) = raw(&sim, "main", "product_offer/read", ct, body).await;
        assert_eq!(status, 200);
        let v: Value = serde_json::from_str(&text).expect("json");
        results.push(v["results"].clone());
    }
    assert_eq!(results[0].as_array().map(Vec::len), Some(7));
    assert!(results.iter().all(|r| r == &results[0]));
}

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
    reqwest::Client::new()
        .post(format!("{}/ip-block", sim.admin_url()))
        .json(&json!({"login": "main", "blocked": true}))
        .send()
        .await
        .expect("block");
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
    reqwest::Client::new()
        .post(format!("{}/faults", sim.admin_url()))
        .json(&json!({"error_rate": 0.3, "html_share": 0.5}))
        .send()
        .await
        .expect("set faults");
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
    reqwest::Client::new()
        .post(format!("{}/faults", sim.admin_url()))
        .json(&json!({"hang_rate": 1.0, "hang_ms": 3000}))
        .send()
        .await
        .expect("set");
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

async fn first_offer(client: &EmagClient) -> Offer {
    serde_json::from_value(
        client
            .read_page("product_offer", &json!({"status": 1}), 1, 1)
            .await
            .expect("read")
            .remove(0),
    )
    .expect("offer")
}

#[tokio::test]
async fn c12_c13_c14_bulk_save() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let offers: Vec<Offer> = client
        .read_page("product_offer", &json!({}), 1, 60)
        .await
        .expect("read")
        .into_iter()
        .map(|v| serde_json::from_value(v).expect("offer"))
        .collect();
    // 12: one bad item among good ones.
    let mut updates: Vec<OfferUpdate> = offers
        .iter()
        .take(5)
        .map(|o| OfferUpdate {
            id: o.id,
            stock: Some(vec![WarehouseValue {
                warehouse_id: 1,
                value: 7,
            }]),
            ..OfferUpdate::default()
        })
        .collect();
    updates[2].stock = Some(vec![WarehouseValue {
        warehouse_id: 1,
        value: -1,
    }]);
    let (outcomes, error) = client.offer_save(&updates).await;
    assert!(error.is_none());
    assert_eq!(outcomes.len(), 5);
    assert!(!outcomes[&offers[2].id].accepted);
    assert!(
        outcomes[&offers[2].id]
            .messages
            .iter()
            .any(|m| m.contains("0 or more"))
    );
    assert_eq!(outcomes.values().filter(|o| o.accepted).count(), 4);
    // 13: 51 entities or 4,001 values are refused whole; the client splits for you.
    let many: Vec<Value> = offers
        .iter()
        .take(51)
        .map(|o| json!({"id": o.id}))
        .collect();
    let (_, _, body) = raw(
        &sim,
        "main",
        "offer/save",
        "application/json",
        &Value::Array(many).to_string(),
    )
    .await;
    assert!(body.contains(r#""isError":true"#), "{body}");
    let wide: Vec<Value> = (0..2001)
        .map(|w| json!({"warehouse_id": w, "value": 1}))
        .collect();
    let (_, _, body) = raw(
        &sim,
        "main",
        "offer/save",
        "application/json",
        &json!([{"id": offers[0].id, "stock": wide}]).to_string(),
    )
    .await;
    assert!(
        body.contains("Maximum input vars of 4000 exceeded"),
        "{body}"
    );
    let all: Vec<OfferUpdate> = offers
        .iter()
        .map(|o| OfferUpdate {
            id: o.id,
            status: Some(1),
            ..OfferUpdate::default()
        })
        .collect();
    let (outcomes, error) = client.offer_save(&all).await;
    assert!(
        error.is_none() && outcomes.len() == 60,
        "60 items in two requests"
    );
    // 14: prices validated per item; 4 decimals kept exactly.
    let o = &offers[0];
    let (min, max) = (
        o.min_sale_price.expect("min"),
        o.max_sale_price.expect("max"),
    );
    let exact: rust_decimal::Decimal = (min + rust_decimal::Decimal::new(12_345, 4)).round_dp(4);
    let cases = [
        (
            OfferUpdate {
                id: o.id,
                sale_price: Some(max + rust_decimal::Decimal::ONE),
                ..OfferUpdate::default()
            },
            false,
        ),
        (
            OfferUpdate {
                id: o.id,
                sale_price: Some(exact),
                recommended_price: Some(exact),
                ..OfferUpdate::default()
            },
            false,
        ),
        (
            OfferUpdate {
                id: o.id,
                sale_price: Some(exact),
                ..OfferUpdate::default()
            },
            true,
        ),
    ];
    for (update, accepted) in cases {
        let (outcomes, _) = client.offer_save(std::slice::from_ref(&update)).await;
        assert_eq!(
            outcomes[&o.id].accepted, accepted,
            "{update:?}: {:?}",
            outcomes[&o.id]
        );
    }
    let reread: Offer = serde_json::from_value(
        client
            .read_page("product_offer", &json!({"id": o.id}), 1, 1)
            .await
            .expect("read")
            .remove(0),
    )
    .expect("offer");
    assert_eq!(reread.sale_price, Some(exact), "no float drift");
}

#[tokio::test]
async fn c15_c16_offer_stock_and_fbe() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let offer = first_offer(&client).await;
    client.offer_stock(offer.id, 21).await.expect("204");
    let reread: Offer = serde_json::from_value(
        client
            .read_page("product_offer", &json!({"id": offer.id}), 1, 1)
            .await
            .expect("read")
            .remove(0),
    )
    .expect("offer");
    assert_eq!(reread.stock[0].value, 21);
    assert_eq!(reread.general_stock, Some(21));
    assert!(matches!(
        client.offer_stock(999_999_999, 1).await,
        Err(EmagError::NotFound { .. })
    ));
    let resp = reqwest::Client::new()
        .patch(format!("{}/offer_stock/{}", sim.base_url, offer.id))
        .basic_auth("main", Some("main-secret"))
        .header("content-type", "application/json")
        .body("{nope")
        .send()
        .await
        .expect("sent");
    assert_eq!(resp.status(), 400);
    assert_eq!(
        resp.text().await.expect("body"),
        r#"{"message":"Invalid content"}"#
    );
    reqwest::Client::new()
        .post(format!("{}/mutate", sim.admin_url()))
        .json(&json!({"login": "main", "offers": [{"id": offer.id, "campaign_locked": true}]}))
        .send()
        .await
        .expect("lock");
    let err = client.offer_stock(offer.id, 5).await.expect_err("campaign");
    assert!(
        matches!(&err, EmagError::Validation { messages } if messages.iter().any(|m| m.starts_with("stock:"))),
        "{err:?}"
    );
    // 16: FBE stock is eMAG's; prices are the seller's.
    let fbe = client_for(&sim, "fbe", "fbe-secret", RateLimiter::off(), fast());
    let fbe_offer = first_offer(&fbe).await;
    assert!(fbe.offer_stock(fbe_offer.id, 3).await.is_err());
    let (outcomes, _) = fbe
        .offer_save(&[OfferUpdate {
            id: fbe_offer.id,
            stock: Some(vec![WarehouseValue {
                warehouse_id: 1,
                value: 3,
            }]),
            ..OfferUpdate::default()
        }])
        .await;
    assert!(!outcomes[&fbe_offer.id].accepted);
    let (outcomes, _) = fbe
        .offer_save(&[OfferUpdate {
            id: fbe_offer.id,
            sale_price: fbe_offer.sale_price,
            ..OfferUpdate::default()
        }])
        .await;
    assert!(
        outcomes[&fbe_offer.id].accepted,
        "{:?}",
        outcomes[&fbe_offer.id]
    );
}

#[tokio::test]
async fn c17_c18_ids_numbers_and_polymorphic_fields() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let raw_orders = client
        .read_page("order", &json!({"type": 3}), 1, 100)
        .await
        .expect("orders");
    assert!(
        raw_orders.iter().any(|o| o["id"].is_string()),
        "some ids arrive as strings"
    );
    let orders: Vec<Order> = raw_orders
        .into_iter()
        .map(|o| serde_json::from_value(o).expect("order parses"))
        .collect();
    assert!(orders.iter().all(|o| o.id > 1 << 31));
    assert!(
        orders.iter().any(|o| o.id > 1 << 32),
        "ids past 2^32 stay exact"
    );
    assert!(
        orders
            .iter()
            .all(|o| o.total_with_vat() > rust_decimal::Decimal::ZERO || o.products.is_empty())
    );
    let listed: Offer = serde_json::from_value(
        client
            .read_page("product_offer", &json!({}), 1, 1)
            .await
            .expect("read")
            .remove(0),
    )
    .expect("offer");
    assert_eq!(listed.manufacturer, Some(FlagOrList::Flag(false)));
    assert!(!listed.validation_status.is_empty());
    assert!(
        listed
            .offer_validation_status
            .as_ref()
            .is_some_and(Value::is_object)
    );
    let by_id: Offer = serde_json::from_value(
        client
            .read_page("product_offer", &json!({"id": listed.id}), 1, 1)
            .await
            .expect("read")
            .remove(0),
    )
    .expect("offer");
    assert!(matches!(by_id.manufacturer, Some(FlagOrList::List(_))));
}

async fn order_with(client: &EmagClient, filter: Value) -> Option<Order> {
    client
        .read_page("order", &filter, 1, 1)
        .await
        .expect("read")
        .into_iter()
        .next()
        .map(|o| serde_json::from_value(o).expect("order"))
}

#[tokio::test]
async fn c19_c20_acknowledge_and_status_matrix() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let new = order_with(&client, json!({"type": 3, "status": 1}))
        .await
        .expect("a new order");
    client.order_acknowledge(new.id).await.expect("1 → 2");
    let after = order_with(&client, json!({"type": 3, "id": new.id}))
        .await
        .expect("order");
    assert_eq!(after.status, 2);
    let again = client.order_acknowledge(new.id).await;
    assert!(
        matches!(again, Err(EmagError::Validation { .. })),
        "repeat is a clear error"
    );
    assert_eq!(
        order_with(&client, json!({"type": 3, "id": new.id}))
            .await
            .expect("order")
            .status,
        2,
        "and changes nothing"
    );
    if let Some(fbe_order) = order_with(&client, json!({"type": 2})).await {
        assert!(
            client.order_acknowledge(fbe_order.id).await.is_err(),
            "type-2 orders cannot be acknowledged"
        );
    }
    // 2 → 3 allowed, 3 → 1 not, 5 terminal.
    client
        .order_save(&[json!({"id": new.id, "status": 3})])
        .await
        .expect("2 → 3");
    assert!(
        client
            .order_save(&[json!({"id": new.id, "status": 1})])
            .await
            .is_err()
    );
    if let Some(returned) = order_with(&client, json!({"type": 3, "status": 5})).await {
        assert!(
            client
                .order_save(&[json!({"id": returned.id, "status": 4})])
                .await
                .is_err()
        );
    }
}

#[tokio::test]
async fn c21_c22_incremental_window_and_default_type() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let before = chrono::Utc::now().naive_utc() - chrono::Duration::seconds(2);
    let fmt = |t: chrono::NaiveDateTime| t.format("%Y-%m-%d %H:%M:%S").to_string();
    let some = client
        .read_page("order", &json!({"type": 3, "status": 4}), 1, 3)
        .await
        .expect("read");
    let ids: Vec<u64> = some
        .iter()
        .map(|o| {
            serde_json::from_value::<Order>(o.clone())
                .expect("order")
                .id
        })
        .collect();
    let changes: Vec<Value> = ids
        .iter()
        .map(|id| json!({"id": id, "status": 5}))
        .collect();
    let added: Value = reqwest::Client::new()
        .post(format!("{}/mutate", sim.admin_url()))
        .json(&json!({"login": "main", "orders": changes, "add_orders": 2}))
        .send()
        .await
        .expect("mutate")
        .json()
        .await
        .expect("json");
    let window = json!({"type": 3, "modifiedAfter": fmt(before), "modifiedBefore": fmt(before + chrono::Duration::days(1))});
    let mut changed = all_ids(&client, "order", &window).await;
    changed.sort_unstable();
    let mut expected = ids.clone();
    expected.extend(
        added["added_orders"]
            .as_array()
            .expect("added")
            .iter()
            .filter_map(Value::as_u64),
    );
    expected.sort_unstable();
    assert_eq!(
        changed, expected,
        "exactly the orders changed on the eMAG side"
    );
    // 22: without `type`, only type 3; the client always sends it explicitly.
    let default_ids = all_ids(&client, "order", &json!({})).await;
    let type3 = all_ids(&client, "order", &json!({"type": 3})).await;
    let type2 = all_ids(&client, "order", &json!({"type": 2})).await;
    assert_eq!(default_ids, type3);
    assert!(!type2.is_empty());
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

#[tokio::test]
async fn typed_filters_and_rows_that_fail_alone() {
    use jobs::emag::types::{OfferFilter, OrderFilter};
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let active = client
        .count_offers(&OfferFilter {
            status: Some(1),
            ..OfferFilter::default()
        })
        .await
        .expect("count");
    let all = client
        .count_offers(&OfferFilter::default())
        .await
        .expect("count");
    assert!(active.items > 0 && active.items < all.items);
    let both = client
        .count_orders(&OrderFilter {
            order_type: 3,
            status: vec![1, 2],
            ..OrderFilter::default()
        })
        .await
        .expect("count");
    let new = client
        .count_orders(&OrderFilter {
            order_type: 3,
            status: vec![1],
            ..OrderFilter::default()
        })
        .await
        .expect("count");
    let acked = client
        .count_orders(&OrderFilter {
            order_type: 3,
            status: vec![2],
            ..OrderFilter::default()
        })
        .await
        .expect("count");
    assert_eq!(both.items, new.items + acked.items);
    // One malformed row on the eMAG side fails to parse on its own; its page still reads.
    let page = client
        .read_offers(&OfferFilter::default(), 1, 10)
        .await
        .expect("page");
    let victim = page[3].item.as_ref().expect("parses").id;
    reqwest::Client::new()
        .post(format!("{}/mutate", sim.admin_url()))
        .json(
            &json!({ "login": "main", "offers": [{ "id": victim, "sale_price": "not a price" }] }),
        )
        .send()
        .await
        .expect("mutate");
    let page = client
        .read_offers(&OfferFilter::default(), 1, 10)
        .await
        .expect("page");
    assert_eq!(page.len(), 10);
    assert_eq!(page.iter().filter(|p| p.item.is_err()).count(), 1);
    assert!(page[3].item.is_err() && page[3].raw["id"].to_string().contains(&victim.to_string()));
    let orders = client
        .read_orders(
            &OrderFilter {
                order_type: 3,
                ..OrderFilter::default()
            },
            1,
            100,
        )
        .await
        .expect("orders");
    assert!(
        orders
            .iter()
            .all(|o| o.item.as_ref().is_ok_and(|o| o.order_type == Some(3)))
    );
}
