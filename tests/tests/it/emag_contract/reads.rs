//! Contract checks 1–6, 17, 18, 21, 22: reading.

use jobs::emag::{
    EmagError,
    sim::{LimitMode, SimConfig},
    types::{Count, FlagOrList, Offer, Order},
};
use serde_json::{Value, json};

use super::*;

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
            .is_some_and(|v| v.text().starts_with('{'))
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

#[tokio::test]
async fn c21_c22_incremental_window_and_default_type() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    // eMAG (and the simulator) stamp orders in Romania's local time.
    let before = chrono::Utc::now()
        .with_timezone(&chrono_tz::Europe::Bucharest)
        .naive_local()
        - chrono::Duration::seconds(2);
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
    let added: Value = tests::sim_admin(
        &sim,
        "mutate",
        &json!({"login": "main", "orders": changes, "add_orders": 2}),
    )
    .await;
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
    tests::sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "offers": [{ "id": victim, "sale_price": "not a price" }] }),
    )
    .await;
    let page = client
        .read_offers(&OfferFilter::default(), 1, 10)
        .await
        .expect("page");
    assert_eq!(page.len(), 10);
    assert_eq!(page.iter().filter(|p| p.item.is_err()).count(), 1);
    assert!(
        page[3].item.is_err()
            && page[3].value()["id"]
                .to_string()
                .contains(&victim.to_string())
    );
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
