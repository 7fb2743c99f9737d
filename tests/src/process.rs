//! `magflow` as a real OS process, for multi-worker and crash tests.

use std::{path::PathBuf, process::Stdio};

use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

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
    // Nobody reads a worker's stdout: a pipe would fill and block it.
    command(args, env, "info", Stdio::null())
        .spawn()
        .expect("spawn magflow")
}

/// Starts `magflow <args>` with `env` added and its stdout piped, for [`read_startup`];
/// it is killed if the handle is dropped.
pub fn spawn_piped(args: &[&str], env: &[(String, String)]) -> Child {
    command(args, env, "warn", Stdio::piped())
        .spawn()
        .expect("spawn magflow")
}

fn command(args: &[&str], env: &[(String, String)], log: &str, stdout: Stdio) -> Command {
    let mut cmd = Command::new(magflow_bin());
    cmd.args(args)
        .envs(env.iter().map(|(k, v)| (k.as_str(), v.as_str())))
        .env("MAGFLOW_LOG", log)
        .stdin(Stdio::null())
        .stdout(stdout)
        .stderr(Stdio::inherit())
        .kill_on_drop(true);
    cmd
}

/// `magflow` run in `dir` on the embedded default (SQLite files there), on a free port,
/// whatever the shared test settings say.
pub fn magflow_in(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(magflow_bin());
    cmd.current_dir(dir)
        .env_remove("MAGFLOW_DATABASE_URL")
        .env_remove("MAGFLOW_QUEUE_URL")
        .env("MAGFLOW_BIND", "127.0.0.1:0")
        .stdin(Stdio::null())
        .kill_on_drop(true);
    cmd
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

/// SIGTERM, then the exit status (within 30 s).
pub async fn stop(child: &mut Child) -> std::process::ExitStatus {
    terminate(child);
    tokio::time::timeout(std::time::Duration::from_secs(30), child.wait())
        .await
        .expect("exits within 30 s of SIGTERM")
        .expect("exit status")
}

/// What `magflow run` printed on start: the API's base URL and, on a first start, the
/// admin key it created.
#[derive(Debug)]
pub struct Startup {
    pub base: String,
    pub key: Option<String>,
    pub output: String,
}

/// Reads a `magflow run`'s stdout (piped) up to its last start-up line, the Swagger UI
/// address.
pub async fn read_startup(child: &mut Child) -> Startup {
    let stdout = child.stdout.take().expect("stdout is piped");
    let mut lines = BufReader::new(stdout).lines();
    let (mut base, mut key, mut output) = (None, None, String::new());
    let read = async {
        while let Some(line) = lines.next_line().await.expect("read stdout") {
            output.push_str(&line);
            output.push('\n');
            if line.starts_with("mf_") {
                key = Some(line.trim().to_owned());
            }
            if let Some(url) = line.trim().strip_prefix("API:") {
                base = Some(url.trim().trim_end_matches("/api/v1").to_owned());
            }
            if line.contains("Swagger UI:") {
                break;
            }
        }
    };
    // Generous: `run --demo` prints its last line after a full sync of two accounts.
    tokio::time::timeout(std::time::Duration::from_secs(240), read)
        .await
        .expect("start-up output in time");
    Startup {
        base: base.expect("API address printed"),
        key,
        output,
    }
}
