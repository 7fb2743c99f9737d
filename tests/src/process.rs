//! `magflow` as a real OS process, for multi-worker and crash tests.

use std::{path::PathBuf, process::Stdio};

use tokio::process::{Child, Command};

/// The `magflow` binary next to the test executable (`cargo build --bins` puts it there).
pub fn magflow_bin() -> PathBuf {
    let exe = std::env::current_exe().expect("test executable path");
    let dir = exe
        .parent()
        .and_then(|d| d.parent())
        .expect("target profile dir");
    let bin = dir.join("magflow");
    assert!(
        bin.exists(),
        "{} is missing: run `cargo build --bins` first (bash .ci/run does)",
        bin.display()
    );
    bin
}

/// Starts `magflow <args>` with `env` added; it is killed if the handle is dropped.
pub fn spawn(args: &[&str], env: &[(String, String)]) -> Child {
    let mut cmd = Command::new(magflow_bin());
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("MAGFLOW_LOG", "info")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    cmd.spawn().expect("spawn magflow")
}

/// Sends SIGTERM (graceful) to a child.
pub fn terminate(child: &Child) {
    if let Some(pid) = child.id() {
        let _ = std::process::Command::new("kill")
            .arg("-TERM")
            .arg(pid.to_string())
            .status();
    }
}
