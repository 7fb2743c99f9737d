//! A PostgreSQL cluster of a test's own, which the test may stop and start again on the
//! same port and data: the failure drills restart it under load. Uses the server that
//! `.ci/run` installs (`CI_PG_BIN`, else the newest `/usr/lib/postgresql/*/bin`), run as
//! the `postgres` user as PostgreSQL requires.

use std::{
    net::TcpListener,
    path::{Path, PathBuf},
    process::{Command, Stdio},
    time::{Duration, Instant},
};

pub struct PgServer {
    pub port: u16,
    bin: PathBuf,
    dir: tempfile::TempDir,
}

fn as_postgres(bin: &Path, tool: &str, args: &[&str]) -> bool {
    Command::new("runuser")
        .args(["-u", "postgres", "--"])
        .arg(bin.join(tool))
        .args(args)
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success())
}

impl PgServer {
    pub fn start() -> PgServer {
        let bin = std::env::var("CI_PG_BIN")
            .map(PathBuf::from)
            .unwrap_or_else(|_| {
                let mut bins: Vec<PathBuf> = std::fs::read_dir("/usr/lib/postgresql")
                    .expect("PostgreSQL is installed (.ci/run installs it)")
                    .flatten()
                    .map(|e| e.path().join("bin"))
                    .collect();
                bins.sort();
                bins.pop().expect("a PostgreSQL version")
            });
        let port = TcpListener::bind("127.0.0.1:0")
            .and_then(|l| l.local_addr())
            .expect("free port")
            .port();
        let dir = tempfile::tempdir().expect("pg dir");
        let path = dir.path().display().to_string();
        // PostgreSQL runs as `postgres`, which must reach and own its directory.
        let owned = Command::new("chown")
            .args(["postgres:postgres", &path])
            .status();
        assert!(owned.is_ok_and(|s| s.success()), "chown {path}");
        let data = format!("{path}/data");
        assert!(
            as_postgres(
                &bin,
                "initdb",
                &["-D", &data, "-U", "postgres", "--auth=trust", "--no-sync"]
            ),
            "initdb"
        );
        let server = PgServer { port, bin, dir };
        server.start_again();
        server
    }

    pub fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }

    fn data(&self) -> String {
        format!("{}/data", self.dir.path().display())
    }

    /// Starts the cluster (again); returns once it accepts connections.
    pub fn start_again(&self) {
        let opts = format!(
            "-p {} -k {} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port,
            self.dir.path().display()
        );
        let log = format!("{}/log", self.dir.path().display());
        assert!(
            as_postgres(
                &self.bin,
                "pg_ctl",
                &["-D", &self.data(), "-l", &log, "-w", "-o", &opts, "start"]
            ),
            "pg_ctl start"
        );
        let deadline = Instant::now() + Duration::from_secs(30);
        while std::net::TcpStream::connect(("127.0.0.1", self.port)).is_err() {
            assert!(Instant::now() < deadline, "PostgreSQL did not start");
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    /// Stops the cluster as an operator's restart would (fast shutdown).
    pub fn stop(&self) {
        as_postgres(
            &self.bin,
            "pg_ctl",
            &["-D", &self.data(), "-m", "fast", "-w", "stop"],
        );
    }
}

impl Drop for PgServer {
    fn drop(&mut self) {
        as_postgres(
            &self.bin,
            "pg_ctl",
            &["-D", &self.data(), "-m", "immediate", "-w", "stop"],
        );
    }
}
