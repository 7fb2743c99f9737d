//! The queries behind the status report: a handful of grouped reads, whatever the
//! number of accounts.

use std::collections::HashMap;

use chrono::{Duration, Utc};
use entity::{
    emag_account,
    job_run::{self, JobKind, RunStatus},
    offer, order, sync_state,
};
use jobs::{counters::Counters, runs};
use sea_orm::{
    ColumnTrait, Condition, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    QuerySelect, sea_query::ExprTrait,
};

use super::{
    AccountStatus, Counts, Degraded, EmagStats, LastSync, RunBrief, RunStats, StatusReport, health,
};

/// The report for one account (by name) or all of them.
pub async fn compute(
    db: &DatabaseConnection,
    sealer: Option<&jobs::secrets::Sealer>,
    account: Option<&str>,
) -> Result<StatusReport, DbErr> {
    let now = Utc::now();
    let accounts: Vec<_> = jobs::accounts::list(db)
        .await?
        .into_iter()
        .filter(|a| account.is_none_or(|n| a.name == n))
        .collect();
    let names: Vec<String> = accounts.iter().map(|a| a.name.clone()).collect();

    let offer_counts = by_status::<offer::Entity>(
        db,
        &names,
        (
            offer::Column::Account,
            offer::Column::Status,
            offer::Column::EmagId,
        ),
        // An offer eMAG no longer lists is not counted.
        Some(offer::Column::RemovedAt),
    )
    .await?;
    let order_counts = by_status::<order::Entity>(
        db,
        &names,
        (
            order::Column::Account,
            order::Column::Status,
            order::Column::EmagId,
        ),
        None,
    )
    .await?;
    let states = sync_state::Entity::find()
        .filter(sync_state::Column::Account.is_in(names.clone()))
        .all(db)
        .await?;
    // The syncs that did the work (a parent only sums its runs).
    let runs = job_run::Entity::find()
        .filter(job_run::Column::Kind.eq(JobKind::Sync))
        .filter(runs::is_parent().not())
        .filter(job_run::Column::Account.is_in(names))
        .filter(job_run::Column::CreatedAt.gte(now - Duration::days(7)))
        .order_by_desc(job_run::Column::Id)
        .all(db)
        .await?;
    let loaded = Loaded {
        offer_counts,
        order_counts,
        states,
        runs,
    };
    Ok(StatusReport {
        generated_at: now,
        accounts: accounts
            .into_iter()
            .map(|a| account_status(a, &loaded, sealer, now))
            .collect(),
    })
}

/// What the report reads for every account at once.
struct Loaded {
    offer_counts: HashMap<String, Counts>,
    order_counts: HashMap<String, Counts>,
    states: Vec<sync_state::Model>,
    runs: Vec<job_run::Model>,
}

fn account_status(
    a: emag_account::Model,
    loaded: &Loaded,
    sealer: Option<&jobs::secrets::Sealer>,
    now: chrono::DateTime<Utc>,
) -> AccountStatus {
    let mine: Vec<&job_run::Model> = loaded
        .runs
        .iter()
        .filter(|r| r.account.as_deref() == Some(a.name.as_str()))
        .collect();
    let last_sync = loaded
        .states
        .iter()
        .filter(|s| s.account == a.name)
        .map(|s| {
            (
                s.resource.clone(),
                LastSync {
                    at: s.last_success_at,
                    age_seconds: (now - s.last_success_at).num_seconds(),
                    run_id: s.last_run_id,
                },
            )
        })
        .collect();
    let mut status = AccountStatus {
        needs_password: jobs::accounts::needs_password(sealer, &a),
        emag_unreachable_since: a.unreachable_since,
        degraded: match (a.degraded_until, &a.degraded_reason) {
            (Some(until), reason) if until > now => Some(Degraded {
                until,
                reason: reason.clone().unwrap_or_default(),
            }),
            _ => None,
        },
        offers: loaded
            .offer_counts
            .get(&a.name)
            .cloned()
            .unwrap_or_default(),
        orders: loaded
            .order_counts
            .get(&a.name)
            .cloned()
            .unwrap_or_default(),
        last_sync,
        active_runs: mine
            .iter()
            .filter(|r| !r.status.is_terminal())
            .map(|r| brief(r))
            .collect(),
        runs_24h: stats(&mine, now - Duration::hours(24)),
        runs_7d: stats(&mine, now - Duration::days(7)),
        recent_runs: mine.iter().take(5).map(|r| brief(r)).collect(),
        emag: emag(&mine, now - Duration::hours(1)),
        health: health::score_placeholder(),
        name: a.name,
        kind: a.kind.into(),
    };
    status.health = health::score(&status);
    status
}

/// Rows per (account, status) of a synced table, given its (account, status, id) columns.
async fn by_status<E: EntityTrait>(
    db: &DatabaseConnection,
    names: &[String],
    (account, status, id): (E::Column, E::Column, E::Column),
    removed: Option<E::Column>,
) -> Result<HashMap<String, Counts>, DbErr> {
    let mut listed = Condition::all();
    if let Some(removed) = removed {
        listed = listed.add(removed.is_null());
    }
    let rows = E::find()
        .filter(listed)
        .select_only()
        .column(account)
        .column(status)
        .column_as(id.count(), "n")
        .filter(account.is_in(names.iter().cloned()))
        .group_by(account)
        .group_by(status)
        .into_tuple::<(String, Option<i32>, i64)>()
        .all(db)
        .await?;
    let mut out: HashMap<String, Counts> = HashMap::new();
    for (account, status, n) in rows {
        let c = out.entry(account).or_default();
        c.total += n;
        let key = status.map_or_else(|| "unknown".to_owned(), |s| s.to_string());
        *c.by_status.entry(key).or_default() += n;
    }
    Ok(out)
}

fn brief(r: &job_run::Model) -> RunBrief {
    RunBrief {
        id: r.id,
        resource: r.params["resource"].as_str().unwrap_or("?").to_owned(),
        status: r.status.as_str().to_owned(),
        processed: r.processed,
        total: r.total,
        created_at: r.created_at,
        finished_at: r.finished_at,
        error_category: r.error_category.map(|c| c.as_str().to_owned()),
    }
}

fn stats(runs: &[&job_run::Model], since: chrono::DateTime<Utc>) -> RunStats {
    let ended: Vec<&&job_run::Model> = runs
        .iter()
        .filter(|r| r.status.is_terminal() && r.finished_at.is_some_and(|f| f >= since))
        .collect();
    let finished = ended.len() as i64;
    let succeeded = ended
        .iter()
        .filter(|r| r.status == RunStatus::Succeeded)
        .count() as i64;
    RunStats {
        finished,
        succeeded,
        success_rate: (finished > 0).then(|| succeeded as f64 / finished as f64),
    }
}

fn emag(runs: &[&job_run::Model], since: chrono::DateTime<Utc>) -> EmagStats {
    let recent: Vec<Counters> = runs
        .iter()
        .filter(|r| r.updated_at >= since)
        .map(|r| Counters::from_run(r))
        .collect();
    let sum = Counters::sum(&recent);
    let ratio = |n: i64| (sum.emag_requests > 0).then(|| n as f64 / sum.emag_requests as f64);
    EmagStats {
        requests: sum.emag_requests,
        errors: sum.emag_errors,
        error_rate: ratio(sum.emag_errors),
        avg_latency_ms: sum.mean_latency_ms(),
        rate_limited: sum.rate_limited,
        rate_limit_usage: ratio(sum.rate_limit_waits),
    }
}
