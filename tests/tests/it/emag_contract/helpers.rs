//! Contract checks 23 and 24: the read helpers and the `offer_stock` body shapes.
//! magflow sends eMAG's documented `{"stock": n}`; the predecessor's array form is
//! UNCERTAIN, so the simulator takes it only with `offer_stock_array`.

use jobs::emag::{rate_limit::RateLimiter, sim::LimitMode, types::Offer};
use serde_json::json;

use super::*;

async fn patch_stock(sim: &Simulator, id: u64, body: serde_json::Value) -> u16 {
    reqwest::Client::new()
        .patch(format!("{}/offer_stock/{id}", sim.base_url))
        .basic_auth("main", Some("main-secret"))
        .json(&body)
        .send()
        .await
        .expect("sent")
        .status()
        .as_u16()
}

#[tokio::test]
async fn c23_handling_times_and_products_by_ean() {
    let sim = sim(config(LimitMode::Emag)).await;
    let client = main_client(&sim);
    let days = client.handling_times().await.expect("handling_time/read");
    assert!(days.contains(&0) && days.contains(&1), "{days:?}");
    assert!(days.windows(2).all(|w| w[0] < w[1]));

    let offer: Offer = serde_json::from_value(
        client
            .read_page("product_offer", &json!({}), 1, 1)
            .await
            .expect("read")
            .remove(0),
    )
    .expect("offer");
    let ean = offer.ean.first().cloned().expect("the offer has an EAN");
    let found = client
        .find_by_eans(&[ean.clone(), "0000000000000".into()])
        .await
        .expect("find_by_eans");
    let products = &found[&ean];
    assert_eq!(products.len(), 1, "{found:?}");
    assert!(products[0].vendor_has_offer && products[0].allowed_to_add_offer);
    assert_eq!(products[0].part_number_key, offer.part_number_key);
    assert!(found["0000000000000"].is_empty());
    // Another seller sees the same product, without an offer of its own.
    let fbe = client_for(&sim, "fbe", "fbe-secret", RateLimiter::off(), fast());
    let seen = fbe
        .find_by_eans(std::slice::from_ref(&ean))
        .await
        .expect("fbe");
    assert!(seen[&ean].iter().all(|p| !p.vendor_has_offer));
    // It is a GET, counted like any other request.
    let log = sim.state.requests(0);
    assert!(
        log.iter()
            .any(|r| r.method == "GET" && r.route == "documentation/find_by_eans")
    );
}

#[tokio::test]
async fn c24_offer_stock_shapes() {
    let array = json!({ "stock": [{ "warehouse_id": 1, "value": 9 }] });
    let strict = sim(config(LimitMode::Off)).await;
    let id = first_offer(&main_client(&strict)).await.id;
    assert_eq!(patch_stock(&strict, id, json!({ "stock": 8 })).await, 204);
    assert_eq!(
        patch_stock(&strict, id, array.clone()).await,
        400,
        "array refused by default"
    );
    let lenient = sim(SimConfig {
        offer_stock_array: true,
        ..config(LimitMode::Off)
    })
    .await;
    let client = main_client(&lenient);
    let id = first_offer(&client).await.id;
    assert_eq!(patch_stock(&lenient, id, array).await, 204);
    // What magflow sends works either way.
    client.offer_stock(id, 11).await.expect("magflow's shape");
    let before = lenient.state.requests(0).len();
    client.offer_stock(id, 12).await.expect("again");
    assert_eq!(lenient.state.requests(before).len(), 1);
}
