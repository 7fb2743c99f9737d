//! Property-based test of the whole API: schemathesis (a real HTTP client, `.ci/run`
//! installs it) reads the served OpenAPI document and sends generated requests to every
//! operation, valid and invalid (wrong types, missing and extra fields, odd sizes and
//! strings, headers and query values), then chains them (create, read, change, delete).
//! It fails on any 5xx and on any answer whose body breaks the document's schema.

use std::process::Stdio;

use tests::{Backend, Options, TestApp};

/// Operations left out: rotating or revoking keys could revoke the key the fuzzer uses,
/// after which every answer would be a 401 and the rest of the run would test nothing.
const EXCLUDED: &str = r"keys/\{id\}/(revoke|rotate)";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn generated_requests_get_no_500_and_answers_match_the_document() {
    let _turn = tests::heavy_turn().await;
    // The coverage phase sends requests without a working key on purpose: the
    // failed-login throttle would otherwise lock the fuzzer out after 20 of them.
    let app = TestApp::spawn_with(
        Backend::Sqlite,
        Options {
            auth_failures_per_minute: Some(1_000_000),
            ..Options::default()
        },
    )
    .await;
    let spec = format!("{}/api/openapi.json", app.client.base);
    let out = tokio::process::Command::new("python3")
        .args([
            "-c",
            "import sys; from schemathesis.cli import schemathesis; sys.argv[0] = 'st'; schemathesis()",
            "run",
            &spec,
            "--header",
            &format!("Authorization: Bearer {}", app.admin),
            "--checks",
            "not_a_server_error,response_schema_conformance,status_code_conformance",
            "--phases",
            "examples,coverage,fuzzing,stateful",
            "--max-examples",
            "40",
            "--exclude-path-regex",
            EXCLUDED,
            "--seed",
            "20261128",
            "--workers",
            "1",
            "--no-color",
        ])
        .stdin(Stdio::null())
        .output()
        .await
        .expect("python3 runs");
    let report = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        !report.contains("No module named"),
        "schemathesis is not installed (.ci/run installs it with pip): {report}"
    );
    assert!(
        out.status.success(),
        "schemathesis found failures:\n{report}"
    );
    // A run that only ever saw 401s would pass while testing nothing.
    assert!(
        !report.contains("Authentication failed"),
        "the fuzzer's key stopped working:\n{report}"
    );
    let passed = report
        .lines()
        .find_map(|l| l.trim().split_once(" generated, "))
        .and_then(|(_, rest)| rest.strip_suffix(" passed"))
        .and_then(|n| n.trim().parse::<u64>().ok())
        .unwrap_or(0);
    assert!(
        passed >= 500,
        "too few generated requests ran ({passed}):\n{report}"
    );
    app.shutdown().await;
}
