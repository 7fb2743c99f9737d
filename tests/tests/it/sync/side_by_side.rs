//! A worker process killed (-9) while groups of pages are written side by side: eMAG's
//! limits off, so pages are read faster than they are written and up to three groups are
//! in PostgreSQL at once. The run resumes after the last committed group, and every offer
//! is stored, and counted created, once.

use std::collections::BTreeSet;

use jobs::emag::sim::{LimitMode, SimConfig, Simulator};
use tests::sim_dump;

use super::{id_of, killed_and_resumed, offer_ids, without_worker};

const OFFERS: usize = 30_000;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killed_while_groups_are_written_side_by_side() {
    let app = without_worker().await;
    let sim = Simulator::start(
        SimConfig {
            offers: OFFERS,
            orders: 10,
            limits: LimitMode::Off,
            ..SimConfig::default()
        },
        "127.0.0.1:0",
    )
    .await
    .expect("simulator");
    app.add_account("main", &sim, "main", "main-secret").await;
    let mut env = app.process_env();
    env.push(("MAGFLOW_EMAG_RATE_LIMIT".into(), "false".into()));
    let (done, mut survivor) = killed_and_resumed(&app, &env, 30).await;
    // Committed pages are counted with their checkpoint: none twice, none lost.
    let pages = (OFFERS / 100) as i64;
    let pages_done = done["progress"]["pages_done"].as_i64().unwrap_or(0);
    assert!(pages_done <= pages + 1, "{done:#}");
    assert_eq!(
        done["progress"]["created"], OFFERS,
        "each offer created once: {done:#}"
    );
    let want: BTreeSet<i64> = sim_dump(&sim, "main", "offers")
        .await
        .iter()
        .map(id_of)
        .collect();
    let have = offer_ids(&app, None).await;
    assert_eq!(have.len(), OFFERS);
    assert_eq!(have, want);

    tests::process::terminate(&survivor);
    assert!(survivor.wait().await.expect("wait").success());
    app.shutdown().await;
}
