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

both!(
    every_enum_column_refuses_unknown_names,
    every_enum_column_refuses_unknown_names
);

/// Each column of the scan is typed: a row holding a name its enum does not know fails to
/// load (a column left as text would load it), and the scan names it.
async fn every_enum_column_refuses_unknown_names(backend: Backend) {
    use entity::{
        api_key, audit_log, bulk_item, emag_account, notification_subscription, run_event,
        schedule, schedule_fire,
    };
    use sea_orm::{ActiveValue::Set, ConnectionTrait, DatabaseConnection, DbErr};

    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    let db = &app.ctx.db;
    // A row in every table that has an enum column.
    let run = app.start_ping(json!({})).await; // job_runs, and audit_log's run.create
    jobs::lifecycle::log(db, run, entity::run_event::Level::Info, "a line".into())
        .await
        .expect("event");
    let subscription = json!({ "recipients": ["ops@example.ro"], "on": "failure", "locale": "en" });
    let (status, body) = app
        .client
        .post("/api/v1/notifications", Some(&app.admin), &subscription)
        .await;
    assert_eq!(status, 201, "{body}");
    let account = json!({ "name": "shop", "kind": "main", "platform": "ro", "username": "u", "password": "p" });
    let (status, body) = app
        .client
        .post("/api/v1/accounts", Some(&app.admin), &account)
        .await;
    assert_eq!(status, 201, "{body}");
    let schedule = json!({ "name": "nightly", "cron": "0 3 * * *", "template": { "kind": "ping", "params": {} } });
    let (status, body) = app
        .client
        .post("/api/v1/schedules", Some(&app.admin), &schedule)
        .await;
    assert_eq!(status, 201, "{body}");
    let schedule_id: uuid::Uuid = body["id"].as_str().expect("id").parse().expect("uuid");
    let user = jobs::users::create(
        db,
        "ana",
        entity::api_key::Role::Viewer,
        "vapor-Lintel-orbit-92",
    )
    .await
    .expect("user");
    jobs::users::sessions::start(db, user.id, entity::console_session::Stage::Full, None)
        .await
        .expect("session");
    let now = chrono::Utc::now();
    bulk_item::Entity::insert(bulk_item::ActiveModel {
        run_id: Set(run),
        seq: Set(0),
        row: Set(1),
        account: Set("shop".into()),
        emag_id: Set(1),
        part_number: Set(None),
        change: Set(json!({})),
        previous: Set(json!({})),
        state: Set(bulk_item::ItemState::Pending),
        message: Set(None),
        updated_at: Set(now),
    })
    .exec(db)
    .await
    .expect("bulk item");
    schedule_fire::Entity::insert(schedule_fire::ActiveModel {
        schedule_id: Set(schedule_id),
        fire_at: Set(now),
        run_id: Set(None),
        outcome: Set(schedule_fire::FireOutcome::Missed),
        claimed_at: Set(now),
    })
    .exec(db)
    .await
    .expect("fire");

    async fn load(db: &DatabaseConnection, table: &str) -> Result<usize, DbErr> {
        Ok(match table {
            "job_runs" => job_run::Entity::find().all(db).await?.len(),
            "api_keys" => api_key::Entity::find().all(db).await?.len(),
            "run_events" => run_event::Entity::find().all(db).await?.len(),
            "audit_log" => audit_log::Entity::find().all(db).await?.len(),
            "bulk_items" => bulk_item::Entity::find().all(db).await?.len(),
            "schedule_fires" => schedule_fire::Entity::find().all(db).await?.len(),
            "emag_accounts" => emag_account::Entity::find().all(db).await?.len(),
            "schedules" => schedule::Entity::find().all(db).await?.len(),
            "notification_subscriptions" => notification_subscription::Entity::find()
                .all(db)
                .await?
                .len(),
            "users" => entity::user::Entity::find().all(db).await?.len(),
            "console_sessions" => entity::console_session::Entity::find().all(db).await?.len(),
            other => panic!("no loader for {other}: add it here"),
        })
    }

    let columns = jobs::stored::enum_columns();
    assert!(columns.len() >= 18, "{columns:?}");
    for (table, column, known) in columns {
        assert!(load(db, table).await.expect("loads") > 0, "{table}: no row");
        db.execute_unprepared(&format!(r#"UPDATE "{table}" SET "{column}" = 'zz'"#))
            .await
            .expect("write an unknown name");
        let found = jobs::stored::unknown_values(db).await.expect("scan");
        assert!(
            found
                .iter()
                .any(|u| (u.table, u.column, u.value.as_str()) == (table, column, "zz")),
            "{table}.{column}: the scan missed it: {found:?}"
        );
        assert!(
            load(db, table).await.is_err(),
            "{table}.{column}: a row holding an unknown name loaded"
        );
        db.execute_unprepared(&format!(
            r#"UPDATE "{table}" SET "{column}" = '{}'"#,
            known[0]
        ))
        .await
        .expect("mend");
    }
    assert!(
        jobs::stored::unknown_values(db)
            .await
            .expect("scan")
            .is_empty()
    );
    app.shutdown().await;
}
