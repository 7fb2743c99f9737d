//! The eMAG budget shared by real OS processes through Redis: three `magflow` processes
//! using one login for 20 s never exceed the limit in any sliding second, get no 429,
//! and reach at least 90% of the limit. Measured by the simulator's request log.
//!
//! Its own test binary, so that it runs on a quiet machine, as a worker would: `.ci/run`
//! runs it alone, before the other tests and the background lints start (sharing the
//! cores with them once cost one 429 in a tight second).
//!
//! With 3% of the limit in reserve (`MAGFLOW_EMAG_RATE_MARGIN`, here `--margin`): the
//! default leaves 15 ms for the way to eMAG's gateway (`WINDOW`), which a release build
//! keeps to 8 ms with every core busy (BENCHMARKS.md), but a debug-built simulator
//! serving both runs at once on two cores sometimes counts a request 15 ms late (CI once
//! saw one 429 in 70). The reserve is the operator's answer to a slower way to eMAG, and
//! it gives this test 30 ms; the default's figures are the release benchmark's.

#![allow(
    clippy::expect_used,
    reason = "tests and their support code stop at the first broken expectation, naming it"
)]

use serde_json::Value;
use tests::process::magflow_bin;

async fn bench(mix: &str) -> Value {
    let redis = std::env::var("MAGFLOW_TEST_REDIS_URL")
        .expect("MAGFLOW_TEST_REDIS_URL (bash .ci/run sets it)");
    let out = tokio::process::Command::new(magflow_bin())
        .args([
            "bench",
            "ratelimit",
            "--processes",
            "3",
            "--seconds",
            "20",
            "--mix",
            mix,
            "--margin",
            "0.03",
            "--json",
        ])
        .env("MAGFLOW_BENCH_REDIS_URL", redis)
        .output()
        .await
        .expect("run the benchmark");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    serde_json::from_str(stdout.lines().last().unwrap_or_default()).expect("json report")
}

fn assert_bucket(report: &Value, bucket: &str, limit: u64) {
    let r = &report[bucket];
    assert_eq!(r["rejected_429"], 0, "{bucket}: {report}");
    assert!(
        r["max_in_any_second"].as_u64().unwrap_or(u64::MAX) <= limit,
        "{bucket}: {report}"
    );
    assert!(
        r["utilisation"].as_f64().unwrap_or(0.0) >= 0.9,
        "{bucket}: {report}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn three_processes_share_one_login() {
    let (other, mixed) = tokio::join!(bench("other"), bench("mixed"));
    assert_bucket(&other, "other", 3);
    assert_bucket(&mixed, "other", 3);
    assert_bucket(&mixed, "orders", 12);
}
