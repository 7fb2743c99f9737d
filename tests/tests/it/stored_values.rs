//! A stored value that no enum knows (a row written by a newer version, or by hand) is an
//! error naming the table, the row and the column, never read as some default (before
//! the typed columns, a run of an unknown kind was put on the `ping` queue).

use entity::job_run;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use tests::{Backend, Options, TestApp};

both!(unknown_names_are_errors, unknown_names_are_errors);

async fn unknown_names_are_errors(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    let db = &app.ctx.db;
    let id = app.start_ping(json!({})).await;
    let fine = app.start_ping(json!({})).await;
    assert!(
        jobs::stored::unknown_values(db)
            .await
            .expect("scan")
            .is_empty()
    );

    job_run::Entity::update_many()
        .col_expr(job_run::Column::Kind, Expr::value("stock_alert"))
        .filter(job_run::Column::Id.eq(id))
        .exec(db)
        .await
        .expect("write an unknown kind");

    let found = jobs::stored::unknown_values(db).await.expect("scan");
    assert_eq!(found.len(), 1, "{found:?}");
    let unknown = &found[0];
    assert_eq!(
        (unknown.table, unknown.column, unknown.value.as_str()),
        ("job_runs", "kind", "stock_alert")
    );
    assert_eq!(unknown.row, id.to_string());
    assert!(unknown.to_string().contains(&id.to_string()), "{unknown}");

    // The run is not shown as some other kind: the API says what it cannot read.
    let (status, body) = app
        .client
        .get(&format!("/api/v1/runs/{id}"), Some(&app.viewer))
        .await;
    assert_eq!(status, 500, "{body}");
    assert_eq!(body["code"], "unknown_stored_value", "{body}");
    assert!(
        body["message"]
            .as_str()
            .is_some_and(|m| m.contains("stock_alert")),
        "{body}"
    );
    // Other rows still read.
    let (status, body) = app
        .client
        .get(&format!("/api/v1/runs/{fine}"), Some(&app.viewer))
        .await;
    assert_eq!((status, &body["kind"]), (200, &json!("ping")), "{body}");
    app.shutdown().await;
}
