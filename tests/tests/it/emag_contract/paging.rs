//! Pages are offsets into the items as they are when each page is asked for: the
//! simulator's shortcut to the next page must give the same answer.

use jobs::emag::{EmagClient, sim::LimitMode};
use serde_json::json;

use super::*;

async fn page_ids(client: &EmagClient, page: u32, per_page: u32) -> Vec<u64> {
    client
        .read_page("product_offer", &json!({}), page, per_page)
        .await
        .expect("page")
        .iter()
        .map(|v| {
            v["id"]
                .as_u64()
                .or_else(|| v["id"].as_str().and_then(|s| s.parse().ok()))
                .expect("id")
        })
        .collect()
}

#[tokio::test]
async fn pages_are_offsets_into_the_items_as_they_are_now() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let all = all_ids(&client, "product_offer", &json!({})).await;
    assert!(all.len() >= 40, "the test needs four pages of ten");
    assert_eq!(page_ids(&client, 1, 10).await, all[..10]);
    assert_eq!(page_ids(&client, 2, 10).await, all[10..20]);
    // One offer of the first page is deleted: the next page starts one item later.
    tests::sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "delete_offers": [all[3]] }),
    )
    .await;
    assert_eq!(page_ids(&client, 3, 10).await, all[21..31]);
    // Another read in between, then the same read goes on from where it was.
    assert_eq!(page_ids(&client, 4, 10).await, all[31..41]);
    assert_eq!(
        page_ids(&client, 1, 5).await[..],
        all[..3]
            .iter()
            .chain(&all[4..6])
            .copied()
            .collect::<Vec<_>>()[..]
    );
    assert_eq!(page_ids(&client, 5, 10).await, all[41..51.min(all.len())]);
    // A page asked for again, out of order, is the same page.
    assert_eq!(page_ids(&client, 2, 10).await, all[11..21]);
}

#[tokio::test]
async fn pages_asked_for_in_any_order_are_the_same_pages() {
    let sim = sim(config(LimitMode::Off)).await;
    let client = main_client(&sim);
    let all = all_ids(&client, "product_offer", &json!({})).await;
    assert!(all.len() >= 50, "the test needs ten pages of five");
    // As a sync's pages in flight arrive: in any order, some of them twice.
    for page in [3, 1, 4, 2, 2, 6, 5, 8, 7, 9] {
        let from = (page - 1) * 5;
        assert_eq!(
            page_ids(&client, page as u32, 5).await,
            all[from..from + 5],
            "page {page}"
        );
    }
    // A change moves every page after it: no position kept from before it is used.
    tests::sim_admin(
        &sim,
        "mutate",
        &json!({ "login": "main", "delete_offers": [all[0]] }),
    )
    .await;
    for page in [8, 10, 9] {
        let from = (page - 1) * 5 + 1;
        assert_eq!(
            page_ids(&client, page as u32, 5).await,
            all[from..from + 5],
            "page {page} after the change"
        );
    }
}
