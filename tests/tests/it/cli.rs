//! The `magflow` binary as a newcomer meets it: first start, keys, bad settings.

use std::{process::Stdio, time::Duration};

use serde_json::json;
use tests::{Client, process::magflow_bin};

fn magflow(dir: &std::path::Path) -> tokio::process::Command {
    let mut cmd = tokio::process::Command::new(magflow_bin());
    cmd.current_dir(dir)
        .env_remove("MAGFLOW_DATABASE_URL")
        .env_remove("MAGFLOW_QUEUE_URL")
        .env("MAGFLOW_BIND", "127.0.0.1:0")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
}

/// `magflow run` on a fresh folder: creates the SQLite files, prints the addresses and a
/// one-time admin key that works, runs a job, and exits 0 on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_on_the_embedded_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = magflow(dir.path())
        .arg("run")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let startup = tests::process::read_startup(&mut child).await;
    let (base, key) = (startup.base, startup.key.expect("admin key printed"));
    assert!(dir.path().join("magflow-data/magflow.db").exists());

    tests::install_tls_provider();
    let client = Client::new(base);
    let (status, run) = client
        .post(
            "/api/v1/runs",
            Some(&key),
            &json!({ "kind": "ping", "params": { "steps": 3 } }),
        )
        .await;
    assert_eq!(status, 202, "{run}");
    let id = run["id"].as_str().expect("id").to_owned();
    let until = tokio::time::Instant::now() + Duration::from_secs(30);
    loop {
        let (_, run) = client.get(&format!("/api/v1/runs/{id}"), Some(&key)).await;
        if run["status"] == "succeeded" {
            break;
        }
        assert!(
            tokio::time::Instant::now() < until,
            "ping did not finish: {run}"
        );
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    tests::process::terminate(&child);
    let status = tokio::time::timeout(Duration::from_secs(30), child.wait())
        .await
        .expect("exits")
        .expect("wait");
    assert!(status.success(), "exit 0 after SIGTERM: {status}");

    // A second start finds the key and does not print another.
    let mut again = magflow(dir.path())
        .arg("run")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let second = tests::process::read_startup(&mut again).await;
    tests::process::terminate(&again);
    let _ = again.wait().await;
    assert!(second.key.is_none(), "no second key: {}", second.output);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn api_key_create_prints_the_key_last() {
    let dir = tempfile::tempdir().expect("temp dir");
    let out = magflow(dir.path())
        .args(["api-key", "create", "--role", "viewer", "--name", "grafana"])
        .output()
        .await
        .expect("run");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    assert!(last.starts_with("mf_") && last.len() > 40, "{stdout}");
}

/// A bad or unreachable setting stops start-up with one line naming it, and never
/// echoes a password.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_settings_fail_with_one_clear_line() {
    let dir = tempfile::tempdir().expect("temp dir");
    let cases: [(&str, &str, &str, &str); 4] = [
        (
            "migrate",
            "MAGFLOW_DATABASE_URL",
            "mysql://root:hunter2@localhost/x",
            "MAGFLOW_DATABASE_URL: unsupported scheme",
        ),
        (
            "migrate",
            "MAGFLOW_DATABASE_URL",
            "postgres://magflow:hunter2@127.0.0.1:1/magflow",
            "MAGFLOW_DATABASE_URL: cannot connect",
        ),
        (
            "worker",
            "MAGFLOW_QUEUE_URL",
            "redis://:hunter2@127.0.0.1:1/",
            "MAGFLOW_QUEUE_URL: cannot connect",
        ),
        ("api", "MAGFLOW_BIND", "not-an-address", "MAGFLOW_BIND:"),
    ];
    for (command, var, value, expected) in cases {
        let out = tokio::time::timeout(
            Duration::from_secs(60),
            magflow(dir.path()).arg(command).env(var, value).output(),
        )
        .await
        .expect("fails fast")
        .expect("run");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{var}={value} must fail");
        assert!(stderr.contains(expected), "{var}: {stderr}");
        assert!(!stderr.contains("hunter2"), "password leaked: {stderr}");
        assert_eq!(
            stderr.lines().filter(|l| l.starts_with("magflow:")).count(),
            1,
            "{stderr}"
        );
    }
}
