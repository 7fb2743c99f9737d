//! The parts of the load benchmark that run as processes of their own, as they would in
//! production: the API (`magflow api`) and eMAG (`magflow emag-sim`, a remote service
//! for a real seller). The benchmark's own process is then only the load generator, so
//! its clients do not take CPU time from the API inside one runtime, and each part's
//! CPU can be read from `/proc`.

use std::{collections::BTreeMap, process::Stdio, time::Instant};

use anyhow::Context;
use serde_json::{Value, json};
use tokio::{
    io::{AsyncBufReadExt, BufReader},
    process::{Child, Command},
};

/// A child process and the first line of its output that told where it listens.
pub(super) struct Started {
    pub(super) child: Child,
    pub(super) url: String,
}

/// `magflow emag-sim` with the benchmark's logins (password `<login>-secret`), eMAG's
/// limits on.
pub(super) async fn simulator(logins: &[String], items: usize) -> anyhow::Result<Started> {
    let mut command = Command::new(std::env::current_exe()?);
    command.args([
        "emag-sim",
        "--bind",
        "127.0.0.1:0",
        "--limits",
        "emag",
        "--offers",
        &items.to_string(),
        "--orders",
        &(items / 2).to_string(),
    ]);
    for login in logins {
        command.args(["--login", &format!("{login}:{login}-secret")]);
    }
    // Its first line is its base URL.
    start(command, |line| {
        line.starts_with("http").then(|| line.trim().to_owned())
    })
    .await
}

/// `magflow api` on a free port with the benchmark's stores; `env` as a worker's.
pub(super) async fn api(env: &[(String, String)]) -> anyhow::Result<Started> {
    let mut command = Command::new(std::env::current_exe()?);
    command
        .arg("api")
        .envs(env.iter().cloned())
        .env("MAGFLOW_BIND", "127.0.0.1:0");
    // Its start-up lines name the API's address: `  API:        http://…/api/v1`.
    start(command, |line| {
        let url = line.trim().strip_prefix("API:")?.trim();
        Some(url.strip_suffix("/api/v1").unwrap_or(url).to_owned())
    })
    .await
}

async fn start(
    mut command: Command,
    address: impl Fn(&str) -> Option<String>,
) -> anyhow::Result<Started> {
    let mut child = command
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .context("start a process")?;
    let stdout = child.stdout.take().context("no stdout")?;
    let mut lines = BufReader::new(stdout).lines();
    let deadline = std::time::Duration::from_secs(30);
    let url = tokio::time::timeout(deadline, async {
        while let Some(line) = lines.next_line().await? {
            if let Some(url) = address(&line) {
                return Ok(url);
            }
        }
        anyhow::bail!("it exited before saying where it listens")
    })
    .await
    .context("no address within 30 s")??;
    // Keep reading, so that it never blocks on a full pipe.
    tokio::spawn(async move { while let Ok(Some(_)) = lines.next_line().await {} });
    Ok(Started { child, url })
}

/// CPU time used so far (s) by each part: named processes, and every process whose name
/// is one of `servers` (PostgreSQL's backends, Redis). Linux only; elsewhere, empty.
pub(super) struct CpuMeter {
    parts: Vec<(&'static str, Vec<u32>)>,
}

/// The servers' parts, by process name: every PostgreSQL backend, Redis.
const SERVERS: [(&str, &str); 2] = [("postgresql", "postgres"), ("redis", "redis-server")];

/// Where a phase's CPU went: cores used on average, per part.
pub(super) struct CpuReading {
    at: Instant,
    seconds: BTreeMap<&'static str, f64>,
}

impl CpuMeter {
    pub(super) fn new(parts: Vec<(&'static str, Vec<u32>)>) -> CpuMeter {
        CpuMeter { parts }
    }

    pub(super) fn read(&self) -> CpuReading {
        let mut seconds = BTreeMap::new();
        for (name, pids) in &self.parts {
            let used: f64 = pids.iter().filter_map(|pid| cpu_seconds(*pid)).sum();
            seconds.insert(*name, used);
        }
        for (name, comm) in SERVERS {
            seconds.insert(name, pids_named(comm).filter_map(cpu_seconds).sum());
        }
        CpuReading {
            at: Instant::now(),
            seconds,
        }
    }
}

impl CpuReading {
    /// Cores used on average by each part between `earlier` and this reading.
    pub(super) fn cores_since(&self, earlier: &CpuReading) -> Value {
        let wall = self.at.duration_since(earlier.at).as_secs_f64().max(1e-9);
        let cores: serde_json::Map<String, Value> = self
            .seconds
            .iter()
            .map(|(name, s)| {
                let before = earlier.seconds.get(name).copied().unwrap_or(0.0);
                let used = ((s - before) / wall * 100.0).round() / 100.0;
                ((*name).to_owned(), json!(used))
            })
            .collect();
        Value::Object(cores)
    }
}

/// User and system CPU time of a process, in seconds.
fn cpu_seconds(pid: u32) -> Option<f64> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
    // The name, in parentheses, may hold spaces: fields are counted after its end.
    let fields: Vec<&str> = stat.rsplit_once(')')?.1.split_whitespace().collect();
    let ticks: u64 = fields.get(11)?.parse::<u64>().ok()? + fields.get(12)?.parse::<u64>().ok()?;
    // Linux reports in USER_HZ, 100 on every architecture it supports.
    Some(ticks as f64 / 100.0)
}

fn pids_named(comm: &str) -> impl Iterator<Item = u32> + '_ {
    std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter(move |pid| {
            std::fs::read_to_string(format!("/proc/{pid}/comm"))
                .is_ok_and(|name| name.trim() == comm)
        })
}
