//! A real SMTP server process (`tests/support/smtp_sink.py`, aiosmtpd) for one test: its
//! own port and its own directory of received messages.

use std::{
    io::{BufRead, BufReader},
    path::PathBuf,
    process::{Child, Command, Stdio},
    time::{Duration, Instant},
};

pub struct SmtpSink {
    pub port: u16,
    dir: tempfile::TempDir,
    child: Child,
}

/// One received message: its envelope recipients and the raw RFC 5322 text.
#[derive(Clone, Debug)]
pub struct Received {
    pub rcpt_to: Vec<String>,
    pub raw: Vec<u8>,
}

impl SmtpSink {
    pub fn start() -> SmtpSink {
        SmtpSink::start_with(&[])
    }

    /// A sink started with extra options of `smtp_sink.py` (`--auth-fails`).
    pub fn start_with(options: &[&str]) -> SmtpSink {
        let dir = tempfile::tempdir().expect("sink dir");
        let script = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("support/smtp_sink.py");
        let mut child = Command::new("python3")
            .arg(&script)
            .arg(dir.path())
            .args(options)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .spawn()
            .expect("start the SMTP sink (python3 with aiosmtpd: `bash .ci/run` installs it)");
        let mut line = String::new();
        BufReader::new(child.stdout.take().expect("stdout"))
            .read_line(&mut line)
            .expect("sink port");
        let port = line.trim().parse().unwrap_or_else(|_| {
            panic!("the SMTP sink did not start (is aiosmtpd installed? `python3 -m pip install aiosmtpd`): {line:?}")
        });
        SmtpSink { port, dir, child }
    }

    pub fn url(&self) -> String {
        format!("smtp://127.0.0.1:{}", self.port)
    }

    pub fn messages(&self) -> Vec<Received> {
        let mut files: Vec<PathBuf> = std::fs::read_dir(self.dir.path())
            .expect("sink dir")
            .flatten()
            .map(|e| e.path())
            .filter(|p| p.extension().is_some_and(|e| e == "eml"))
            .collect();
        files.sort();
        files
            .into_iter()
            .map(|p| {
                let data = std::fs::read(&p).expect("message");
                let end = data.iter().position(|b| *b == b'\n').unwrap_or(0);
                let envelope = String::from_utf8_lossy(&data[..end]);
                let rcpt_to = envelope
                    .trim()
                    .trim_start_matches("X-Rcpt-To:")
                    .split(',')
                    .map(|s| s.trim().to_owned())
                    .filter(|s| !s.is_empty())
                    .collect();
                Received {
                    rcpt_to,
                    raw: data[end + 1..].to_vec(),
                }
            })
            .collect()
    }

    /// Polls until at least `n` messages arrived; panics after `deadline`.
    pub async fn wait_for(&self, n: usize, deadline: Duration) -> Vec<Received> {
        let until = Instant::now() + deadline;
        loop {
            let got = self.messages();
            if got.len() >= n {
                return got;
            }
            assert!(
                Instant::now() < until,
                "{} of {n} messages arrived within {deadline:?}",
                got.len()
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }
}

impl Drop for SmtpSink {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
