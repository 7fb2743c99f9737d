//! One upsert writes a page on a real SQLite file: what it says it did is what the rows
//! show, and an unchanged offer keeps its content and `updated_at`.

use chrono::{Duration, Utc};
use entity::offer;
use sea_orm::{ColumnTrait, DatabaseConnection, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::{Value, json};
use uuid::Uuid;

use super::{OfferBatch, OfferUpsert, PageOutcome, prepare_offers};
use crate::{Config, emag::types::Parsed};

async fn save(db: &DatabaseConnection, batch: OfferBatch) -> PageOutcome {
    let upsert = OfferUpsert::of(sea_orm::DbBackend::Sqlite, batch).unwrap();
    upsert.save(db).await.unwrap()
}

async fn database() -> (DatabaseConnection, std::path::PathBuf) {
    let dir = std::env::temp_dir().join(format!("magflow-store-{}", Uuid::now_v7()));
    std::fs::create_dir_all(&dir).unwrap();
    let url = format!("sqlite://{}?mode=rwc", dir.join("data.db").display());
    let config = Config::from_sources(None, [("MAGFLOW_DATABASE_URL".to_owned(), url)]).unwrap();
    let db = crate::db::connect(&config).await.unwrap();
    crate::db::migrate(&db).await.unwrap();
    (db, dir)
}

fn page(items: &[Value]) -> Vec<Parsed<crate::emag::types::Offer>> {
    items.iter().map(Parsed::from_value).collect()
}

async fn stored(db: &DatabaseConnection, id: i64) -> offer::Model {
    offer::Entity::find_by_id(("a".to_owned(), id))
        .one(db)
        .await
        .unwrap()
        .expect("stored")
}

#[tokio::test]
async fn a_page_is_one_upsert_that_rewrites_only_what_changed() {
    let (db, dir) = database().await;
    let one = json!({ "id": 1, "name": "one", "sale_price": "10.5" });
    let two = json!({ "id": 2, "name": "two" });
    let first_run = Uuid::now_v7();
    let t0 = Utc::now() - Duration::hours(1);
    let first_page = prepare_offers("a", first_run, page(&[one.clone(), two.clone()]), t0);
    let first = save(&db, first_page).await;
    assert_eq!((first.created, first.updated, first.unchanged), (2, 0, 0));
    // Offer 1 was removed since; it is listed again, unchanged.
    offer::Entity::update_many()
        .col_expr(offer::Column::RemovedAt, Expr::value(Some(t0)))
        .filter(offer::Column::EmagId.eq(1))
        .exec(&db)
        .await
        .unwrap();

    let run = Uuid::now_v7();
    let t1 = Utc::now();
    let two_changed = json!({ "id": 2, "name": "two, renamed" });
    let three = json!({ "id": 3, "name": "three" });
    let items = [
        one.clone(),
        two_changed.clone(),
        three,
        json!({ "name": "no id" }),
    ];
    let second = save(&db, prepare_offers("a", run, page(&items), t1)).await;
    assert_eq!(
        (second.created, second.updated, second.unchanged),
        (1, 1, 1)
    );
    assert_eq!(second.failed.len(), 1, "{:?}", second.failed);

    let kept = stored(&db, 1).await;
    assert_eq!(kept.updated_at, t0, "unchanged content is not rewritten");
    assert_eq!((kept.first_seen_at, kept.last_synced_at), (t0, t1));
    assert_eq!((kept.removed_at, kept.last_seen_run), (None, Some(run)));
    assert_eq!(kept.name.as_deref(), Some("one"));
    assert_eq!(kept.raw, one, "the offer as eMAG sent it");
    let changed = stored(&db, 2).await;
    assert_eq!(changed.name.as_deref(), Some("two, renamed"));
    assert_eq!(changed.raw, two_changed);
    assert_eq!((changed.first_seen_at, changed.updated_at), (t0, t1));
    assert_eq!(changed.last_seen_run, Some(run));
    let new = stored(&db, 3).await;
    assert_eq!((new.first_seen_at, new.updated_at), (t1, t1));
    drop(db);
    let _ = std::fs::remove_dir_all(dir);
}

/// Stored hashes stay what they were: the same digits as `hex::encode` wrote.
#[test]
fn content_hash_digits_as_before() {
    use sha2::{Digest, Sha256};
    for text in ["", "{}", r#"{"id":1,"name":"ă"}"#] {
        assert_eq!(
            super::sha256_hex(text.as_bytes()),
            hex::encode(Sha256::digest(text.as_bytes()))
        );
    }
}
