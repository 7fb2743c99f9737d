//! The `magflow` binary as a newcomer meets it: first start, keys, bad settings.

use std::{process::Stdio, time::Duration};

use serde_json::json;
use tests::{Client, process::magflow_in};

/// `magflow run` on a fresh folder: creates the SQLite files, prints the addresses and a
/// one-time admin key that works, runs a job, and exits 0 on SIGTERM.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn first_run_on_the_embedded_default() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = magflow_in(dir.path())
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
    let mut again = magflow_in(dir.path())
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
    let out = magflow_in(dir.path())
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

/// An admin who lost their password gets back in from the command line: a new one,
/// printed last; the old one no longer signs in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn user_reset_prints_a_new_password_last() {
    let dir = tempfile::tempdir().expect("temp dir");
    let run = |args: &'static [&'static str]| {
        let mut cmd = magflow_in(dir.path());
        cmd.args(args);
        async move { cmd.output().await.expect("run") }
    };
    let created = run(&["user", "create", "--role", "admin", "--name", "ana"]).await;
    assert!(
        created.status.success(),
        "{}",
        String::from_utf8_lossy(&created.stderr)
    );
    let old = String::from_utf8_lossy(&created.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    let reset = run(&["user", "reset", "--name", "ana", "--two-factor"]).await;
    assert!(
        reset.status.success(),
        "{}",
        String::from_utf8_lossy(&reset.stderr)
    );
    let new = String::from_utf8_lossy(&reset.stdout)
        .lines()
        .last()
        .unwrap_or_default()
        .to_owned();
    assert!(new.len() >= 12 && new != old, "{new:?}");
    let missing = run(&["user", "reset", "--name", "nobody"]).await;
    assert!(!missing.status.success());
    assert!(String::from_utf8_lossy(&missing.stderr).contains("no user named"));

    let url = format!(
        "sqlite://{}?mode=rw",
        dir.path().join("magflow-data/magflow.db").display()
    );
    let db = sea_orm::Database::connect(&url).await.expect("db");
    let refused = jobs::users::sign_in::check_password(&db, "ana", &old).await;
    assert!(refused.is_err(), "the old password still works");
    jobs::users::sign_in::check_password(&db, "ana", &new)
        .await
        .expect("the new password works");
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
            magflow_in(dir.path()).arg(command).env(var, value).output(),
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

/// `magflow run --demo` syncs two demo accounts before its last start-up line; then
/// `magflow sync --follow` and `magflow runs watch` drive and follow runs through the API
/// and exit non-zero when a run cannot succeed.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn demo_then_sync_and_watch_from_the_cli() {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = magflow_in(dir.path())
        .args(["run", "--demo"])
        .env_remove("MAGFLOW_SECRET_KEY")
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let startup = tests::process::read_startup(&mut child).await;
    let (base, key) = (startup.base, startup.key.expect("admin key printed"));
    for line in [
        "main offers: succeeded",
        "main orders: succeeded",
        "fbe offers: succeeded",
        "fbe orders: succeeded",
    ] {
        assert!(startup.output.contains(line), "{}", startup.output);
    }
    assert!(dir.path().join("magflow-data/demo-secret.key").exists());

    let cli = |args: &[&str]| {
        let mut cmd = magflow_in(dir.path());
        cmd.args(args)
            .env("MAGFLOW_API_URL", &base)
            .env("MAGFLOW_API_KEY", &key)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        cmd
    };
    let out = tokio::time::timeout(
        Duration::from_secs(120),
        cli(&[
            "sync",
            "--account",
            "main",
            "--resource",
            "offers",
            "--mode",
            "incremental",
            "--follow",
        ])
        .output(),
    )
    .await
    .expect("sync ends")
    .expect("sync runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{stdout}\n{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(
        stdout.contains(
            "main offers: succeeded (2500 processed: 0 created, 0 updated, 2500 unchanged"
        ),
        "{stdout}"
    );
    let id = stdout
        .lines()
        .find_map(|l| l.strip_prefix("run "))
        .expect("run id printed")
        .to_owned();

    let out = cli(&["runs", "watch", &id]).output().await.expect("watch");
    assert!(out.status.success());
    assert!(String::from_utf8_lossy(&out.stdout).contains("main offers: succeeded"));

    // A run that fails: an account whose password eMAG refuses.
    tests::install_tls_provider();
    let client = Client::new(base.clone());
    let demo_sim = startup
        .output
        .lines()
        .find_map(|l| l.trim().strip_prefix("Demo:       eMAG simulator at "))
        .and_then(|rest| rest.split(';').next())
        .expect("simulator address printed")
        .to_owned();
    let (status, body) = client
        .post(
            "/api/v1/accounts",
            Some(&key),
            &json!({ "name": "wrong", "kind": "main", "base_url": demo_sim, "username": "main", "password": "not-it" }),
        )
        .await;
    assert_eq!(status, 201, "{body}");
    let out = cli(&[
        "sync",
        "--account",
        "wrong",
        "--resource",
        "offers",
        "--follow",
    ])
    .output()
    .await
    .expect("sync");
    assert!(!out.status.success(), "a failed run exits non-zero");
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(stdout.contains("wrong offers: failed"), "{stdout}");
    assert!(stdout.contains("bad_credentials"), "{stdout}");

    let out = cli(&["sync", "--account", "nope", "--follow"])
        .output()
        .await
        .expect("sync");
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("params.accounts[0]"), "{stderr}");
    assert!(!stderr.contains(&key), "the key never appears");

    assert!(tests::process::stop(&mut child).await.success());
}
