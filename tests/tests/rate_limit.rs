//! The eMAG budget shared by real OS processes through Redis: three `magflow` processes
//! using one login for 20 s never exceed the limit in any sliding second, get no 429,
//! and reach at least 90% of the limit. Measured by the simulator's request log.
//!
//! Its own test binary, so that it runs on a quiet machine, as a worker would: `.ci/run`
//! runs it alone, before the other tests and the background lints start (sharing the
//! cores with them once cost one 429 in a tight second).

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
