//! Contract checks 12–16, 19, 20: writing.

use jobs::emag::{
    EmagError,
    rate_limit::RateLimiter,
    sim::LimitMode,
    types::{Offer, OfferUpdate, WarehouseValue},
};
use serde_json::{Value, json};

use super::*;

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
    tests::sim_admin(
        &sim,
        "mutate",
        &json!({"login": "main", "offers": [{"id": offer.id, "campaign_locked": true}]}),
    )
    .await;
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
    // 2 → 3 allowed, 3 → 1 not, 5 terminal; a save carries every field as read.
    let as_read = |status: i64| {
        let client = client.clone();
        async move {
            let mut order = client
                .order_as_read(new.id, 3)
                .await
                .expect("read")
                .expect("order");
            order["status"] = json!(status);
            order
        }
    };
    assert!(
        client
            .order_save(&[json!({"id": new.id, "status": 3})])
            .await
            .is_err(),
        "a save without the fields read is refused"
    );
    client.order_save(&[as_read(3).await]).await.expect("2 → 3");
    assert!(client.order_save(&[as_read(1).await]).await.is_err());
    if let Some(returned) = order_with(&client, json!({"type": 3, "status": 5})).await {
        let mut order = client
            .order_as_read(returned.id, 3)
            .await
            .expect("read")
            .expect("order");
        order["status"] = json!(4);
        assert!(client.order_save(&[order]).await.is_err());
    }
    // A cancellation names one of eMAG's reasons.
    let mut cancel = as_read(0).await;
    assert!(client.order_save(&[cancel.clone()]).await.is_err());
    cancel["reason_cancellation"] = json!(2);
    client
        .order_save(&[cancel])
        .await
        .expect("3 → 0 with a reason");
    // Back from cancelled only within 48 h.
    tests::sim_admin(
        &sim,
        "mutate",
        &json!({"login": "main", "orders": [{"id": new.id, "modified": "2020-01-01 10:00:00"}]}),
    )
    .await;
    assert!(
        client.order_save(&[as_read(2).await]).await.is_err(),
        "0 → 2 after 48 h"
    );
    // Attachments are PDFs, and name the order's type.
    assert!(
        client
            .order_attachment_save(new.id, 3, "Factura", "https://shop.ro/f.png", 1)
            .await
            .is_err()
    );
    client
        .order_attachment_save(new.id, 3, "Factura", "https://shop.ro/f.pdf", 1)
        .await
        .expect("PDF attached");
    let attached = client
        .order_as_read(new.id, 3)
        .await
        .expect("read")
        .expect("order");
    assert_eq!(attached["attachments"][0]["url"], "https://shop.ro/f.pdf");
}
