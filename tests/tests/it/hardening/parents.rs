//! A parent run always ends: 50 children that end at the same moment, 20 times over, on
//! both backends; the parent ends every time and its notification goes out once.

use std::sync::Arc;

use entity::job_run::{self, RunStatus};
use jobs::{
    JobKind,
    runs::{self, NewRun},
};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, sea_query::Expr};
use serde_json::json;
use tests::{Backend, Options, TestApp};

both!(parents_always_end, parents_always_end);

fn new_run(parent_id: Option<uuid::Uuid>) -> NewRun {
    NewRun {
        kind: JobKind::Ping,
        params: json!({}),
        account: None,
        max_attempts: 3,
        parent_id,
        lock_key: None,
    }
}

async fn parents_always_end(backend: Backend) {
    let app = TestApp::spawn_with(backend, Options::no_worker()).await;
    let (s, sub) = app
        .client
        .post(
            "/api/v1/notifications",
            Some(&app.admin),
            &json!({ "recipients": ["ops@example.ro"], "kinds": ["ping"], "on": "both" }),
        )
        .await;
    assert_eq!(s, 201, "{sub}");
    let db = &app.ctx.db;
    for round in 0..20 {
        let parent = runs::insert(db, new_run(None)).await.expect("parent");
        let mut children = Vec::new();
        for _ in 0..50 {
            children.push(
                runs::insert(db, new_run(Some(parent.id)))
                    .await
                    .expect("child")
                    .id,
            );
        }
        job_run::Entity::update_many()
            .col_expr(job_run::Column::Status, Expr::value(RunStatus::Running))
            .col_expr(job_run::Column::StartedAt, Expr::value(chrono::Utc::now()))
            .filter(job_run::Column::ParentId.eq(parent.id))
            .exec(db)
            .await
            .expect("start the children");
        runs::refresh_parent(db, parent.id).await.expect("refresh");

        // What a worker does when an attempt ends: the child's row, then its parent, then
        // the notifications of the top-level run; all 50 at once.
        let start = Arc::new(tokio::sync::Barrier::new(children.len()));
        let endings = children.into_iter().map(|child| {
            let (db, queue, start) = (db.clone(), app.ctx.queue.clone(), start.clone());
            tokio::spawn(async move {
                start.wait().await;
                let now = chrono::Utc::now();
                job_run::Entity::update_many()
                    .col_expr(job_run::Column::Status, Expr::value(RunStatus::Succeeded))
                    .col_expr(job_run::Column::FinishedAt, Expr::value(now))
                    .col_expr(job_run::Column::UpdatedAt, Expr::value(now))
                    .filter(job_run::Column::Id.eq(child))
                    .exec(&db)
                    .await
                    .expect("end the child");
                runs::refresh_parent(&db, parent.id)
                    .await
                    .expect("refresh the parent");
                jobs::notification::announce(&db, &queue, parent.id)
                    .await
                    .expect("announce");
            })
        });
        for ending in futures::future::join_all(endings).await {
            ending.expect("no panic");
        }
        let ended = runs::find(db, parent.id)
            .await
            .expect("read")
            .expect("parent");
        assert_eq!(
            ended.status,
            RunStatus::Succeeded,
            "round {round}: {ended:?}"
        );
        let notifications = job_run::Entity::find()
            .filter(job_run::Column::Kind.eq("notification"))
            .all(db)
            .await
            .expect("notifications")
            .into_iter()
            .filter(|r| r.params["run_id"] == json!(parent.id))
            .count();
        assert_eq!(notifications, 1, "round {round}");
    }
    app.shutdown().await;
}
