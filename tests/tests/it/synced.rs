//! Reading what syncs stored: `GET /api/v1/offers` and `/api/v1/orders` walk every row
//! exactly once in cursor pages, filter by account, status, text and change time, leave
//! removed offers out unless asked, and `GET /api/v1/orders/{account}/{id}` has the lines
//! eMAG sent. Bad filters get 422 naming the field.

use std::collections::BTreeSet;

use serde_json::{Value, json};
use tests::{Backend, TestApp, quick_simulator, sim_admin, sim_dump};

both!(synced_data_reads_back, synced_data_reads_back);

/// Every item of a list, page by page, and how many pages it took.
async fn walk(app: &TestApp, path: &str) -> (Vec<Value>, usize) {
    let (mut items, mut pages, mut cursor) = (Vec::new(), 0, None::<String>);
    loop {
        let sep = if path.contains('?') { '&' } else { '?' };
        let url = match &cursor {
            Some(c) => format!("{path}{sep}cursor={c}"),
            None => path.to_owned(),
        };
        let (status, page) = app.client.get(&url, Some(&app.viewer)).await;
        assert_eq!(status, 200, "{url}: {page}");
        items.extend(page["items"].as_array().expect("items").iter().cloned());
        pages += 1;
        match page["next_cursor"].as_str() {
            Some(c) => cursor = Some(c.to_owned()),
            None => return (items, pages),
        }
    }
}

fn ids(items: &[Value]) -> Vec<i64> {
    items
        .iter()
        .map(|i| i["id"].as_i64().expect("id"))
        .collect()
}

fn id_of(v: &Value) -> i64 {
    match &v["id"] {
        Value::String(s) => s.parse().expect("id"),
        other => other.as_i64().expect("id"),
    }
}

async fn synced_data_reads_back(backend: Backend) {
    let app = TestApp::spawn(backend).await;
    let sim = quick_simulator(230, 70).await;
    app.add_account("main", &sim, "main", "main-secret").await;
    let run = app
        .start_run(json!({ "kind": "sync", "params": { "accounts": ["main"], "resource": "all" } }))
        .await;
    let done = app
        .wait_status(
            run,
            &["succeeded", "failed", "dead"],
            std::time::Duration::from_secs(120),
        )
        .await;
    assert_eq!(done["status"], "succeeded", "{done}");

    // Offers: every one once, in order, 50 a page.
    let emag_offers = sim_dump(&sim, "main", "offers").await;
    let (offers, pages) = walk(&app, "/api/v1/offers?limit=50").await;
    assert_eq!(pages, 5);
    let mut want: Vec<i64> = emag_offers.iter().map(id_of).collect();
    want.sort_unstable();
    assert_eq!(ids(&offers), want);
    let active = emag_offers.iter().filter(|o| o["status"] == 1).count();
    assert_eq!(
        walk(&app, "/api/v1/offers?status=1&limit=200")
            .await
            .0
            .len(),
        active
    );
    assert!(
        walk(&app, "/api/v1/offers?account=other")
            .await
            .0
            .is_empty()
    );

    // Text: a part number in another case finds its offer; `%` is a character, not a wildcard.
    let pn = offers[17]["part_number"].as_str().expect("part number");
    let (found, _) = walk(&app, &format!("/api/v1/offers?q={}", pn.to_lowercase())).await;
    assert!(
        ids(&found).contains(&offers[17]["id"].as_i64().expect("id")),
        "{found:?}"
    );
    assert!(walk(&app, "/api/v1/offers?q=%25").await.0.is_empty());

    // Removed offers only on request; changed_since only what a later sync changed.
    let since = chrono::Utc::now().to_rfc3339_opts(chrono::SecondsFormat::Micros, true);
    let gone: Vec<i64> = want.iter().step_by(50).copied().collect();
    let changed = want[3];
    sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "delete_offers": gone, "offers": [{ "id": changed, "sale_price": 77.5 }] }),
    )
    .await;
    app.sync_offers("main").await;
    let (kept, _) = walk(&app, "/api/v1/offers?limit=200").await;
    assert_eq!(kept.len(), want.len() - gone.len());
    let (all, _) = walk(&app, "/api/v1/offers?include_removed=true&limit=200").await;
    let removed: BTreeSet<i64> = all
        .iter()
        .filter(|o| o["removed_at"].is_string())
        .map(|o| o["id"].as_i64().expect("id"))
        .collect();
    assert_eq!(removed, gone.iter().copied().collect());
    let since = since.replace('+', "%2B");
    let (recent, _) = walk(&app, &format!("/api/v1/offers?changed_since={since}")).await;
    assert_eq!(ids(&recent), vec![changed]);
    assert_eq!(recent[0]["sale_price"], "77.5");

    // Orders: newest first, every one once; by id; one with its lines.
    let emag_orders = sim_dump(&sim, "main", "orders").await;
    let (orders, pages) = walk(&app, "/api/v1/orders?limit=30").await;
    assert_eq!(pages, 3);
    let mut want: Vec<i64> = emag_orders.iter().map(id_of).collect();
    want.sort_unstable_by(|a, b| b.cmp(a));
    assert_eq!(ids(&orders), want);
    let one = &emag_orders[5];
    let (found, _) = walk(&app, &format!("/api/v1/orders?q={}", id_of(one))).await;
    assert_eq!(ids(&found), vec![id_of(one)]);
    let (status, detail) = app
        .client
        .get(
            &format!("/api/v1/orders/main/{}", id_of(one)),
            Some(&app.viewer),
        )
        .await;
    assert_eq!(status, 200, "{detail}");
    assert_eq!(detail["id"], id_of(one));
    assert_eq!(
        detail["lines"].as_array().expect("lines").len(),
        one["products"].as_array().expect("products").len()
    );
    let (status, _) = app
        .client
        .get("/api/v1/orders/main/1", Some(&app.viewer))
        .await;
    assert_eq!(status, 404);

    // Bad filters: 422 naming the field.
    for (path, field) in [
        ("/api/v1/offers?status=7", "status"),
        ("/api/v1/orders?status=-1", "status"),
        ("/api/v1/offers?limit=0", "limit"),
        ("/api/v1/orders?cursor=nonsense", "cursor"),
    ] {
        let (status, body) = app.client.get(path, Some(&app.viewer)).await;
        assert_eq!(
            (status, body["field"].as_str()),
            (422, Some(field)),
            "{path}: {body}"
        );
    }
    let long = "x".repeat(101);
    let (status, body) = app
        .client
        .get(&format!("/api/v1/offers?q={long}"), Some(&app.viewer))
        .await;
    assert_eq!((status, body["field"].as_str()), (422, Some("q")), "{body}");
    let (status, _) = app.client.get("/api/v1/offers", None).await;
    assert_eq!(status, 401);
    app.shutdown().await;
}
