//! Following runs in the terminal: a progress bar per run (indicatif, on stderr, drawn
//! only on a terminal), then one summary line per run on stdout.

use std::{collections::HashMap, future::Future, time::Duration};

use indicatif::{MultiProgress, ProgressBar, ProgressStyle};
use serde_json::Value;

/// What the follower shows of one run.
#[derive(Clone, Debug)]
pub struct RunLine {
    pub id: String,
    pub label: String,
    pub status: String,
    pub processed: u64,
    pub total: Option<u64>,
    pub throughput: Option<f64>,
    pub eta_seconds: Option<f64>,
    pub error: Option<String>,
    pub created: u64,
    pub updated: u64,
    pub unchanged: u64,
    pub failed: u64,
}

impl RunLine {
    /// From a run as the API shows it (`RunView` JSON).
    pub fn from_view(run: &Value) -> RunLine {
        let p = &run["progress"];
        let n = |v: &Value| v.as_u64().unwrap_or(0);
        let resource = run["params"]["resource"]
            .as_str()
            .unwrap_or(run["kind"].as_str().unwrap_or("run"));
        RunLine {
            id: run["id"].as_str().unwrap_or_default().to_owned(),
            label: format!("{} {resource}", run["account"].as_str().unwrap_or("-")),
            status: run["status"].as_str().unwrap_or("?").to_owned(),
            processed: n(&p["processed"]),
            total: p["total"].as_u64(),
            throughput: p["throughput"].as_f64(),
            eta_seconds: p["eta_seconds"].as_f64(),
            error: run["error"]["message"].as_str().map(|m| {
                format!(
                    "{}: {m}",
                    run["error"]["category"].as_str().unwrap_or("error")
                )
            }),
            created: n(&p["created"]),
            updated: n(&p["updated"]),
            unchanged: n(&p["unchanged"]),
            failed: n(&p["failed"]),
        }
    }

    fn ended(&self) -> bool {
        matches!(
            self.status.as_str(),
            "succeeded" | "failed" | "cancelled" | "dead"
        )
    }
}

/// Polls `fetch` until every run it returns has ended; true when all succeeded.
pub async fn follow<F, Fut>(mut fetch: F) -> anyhow::Result<bool>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = anyhow::Result<Vec<RunLine>>>,
{
    let multi = MultiProgress::new();
    let style =
        ProgressStyle::with_template("{prefix:>16} [{bar:32.cyan/blue}] {pos:>7}/{len:7} {msg}")?
            .progress_chars("=> ");
    let mut bars: HashMap<String, ProgressBar> = HashMap::new();
    let lines = loop {
        let lines = fetch().await?;
        for line in &lines {
            let bar = bars.entry(line.id.clone()).or_insert_with(|| {
                let bar = multi.add(ProgressBar::new(0));
                bar.set_style(style.clone());
                bar.set_prefix(line.label.clone());
                bar
            });
            bar.set_length(line.total.unwrap_or(0).max(line.processed));
            bar.set_position(line.processed);
            let rate = line
                .throughput
                .map(|t| format!(" {t:.0}/s"))
                .unwrap_or_default();
            let eta = line
                .eta_seconds
                .map(|e| format!(" eta {e:.0}s"))
                .unwrap_or_default();
            bar.set_message(format!("{}{rate}{eta}", line.status));
            if line.ended() && !bar.is_finished() {
                bar.finish_with_message(line.status.clone());
            }
        }
        if !lines.is_empty() && lines.iter().all(RunLine::ended) {
            break lines;
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    };
    let _ = multi.clear();
    for line in &lines {
        println!(
            "{}: {} ({} processed: {} created, {} updated, {} unchanged, {} failed) run {}",
            line.label,
            line.status,
            line.processed,
            line.created,
            line.updated,
            line.unchanged,
            line.failed,
            line.id
        );
        if let Some(error) = &line.error {
            println!("  {error}");
        }
    }
    Ok(lines.iter().all(|l| l.status == "succeeded"))
}
