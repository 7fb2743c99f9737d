//! Optional HTTPS: `magflow run` with `MAGFLOW_TLS_CERT` and `MAGFLOW_TLS_KEY` (a
//! certificate made by the `openssl` command, signed by a throwaway CA) serves the API over TLS only, and a missing
//! or unreadable key stops start-up with a message naming the setting.

use std::{path::Path, process::Stdio, time::Duration};

use tests::process::magflow_in;

/// A certificate for 127.0.0.1 signed by a throwaway CA, as PEM files in `dir`: returns
/// (CA certificate, server certificate, server key).
fn make_certificate(dir: &Path) -> (String, String, String) {
    let path = |name: &str| dir.join(name).display().to_string();
    let openssl = |args: &[&str]| {
        let made = std::process::Command::new("openssl")
            .args(args)
            .current_dir(dir)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status()
            .expect("openssl is installed (.ci/run installs it)");
        assert!(made.success(), "openssl {args:?}");
    };
    let ec = [
        "-newkey",
        "ec",
        "-pkeyopt",
        "ec_paramgen_curve:prime256v1",
        "-nodes",
    ];
    openssl(
        &[
            &["req", "-x509"],
            &ec[..],
            &[
                "-days",
                "2",
                "-subj",
                "/CN=magflow test CA",
                "-keyout",
                "ca.key",
                "-out",
                "ca.pem",
            ],
        ]
        .concat(),
    );
    openssl(
        &[
            &["req"],
            &ec[..],
            &[
                "-subj",
                "/CN=localhost",
                "-keyout",
                "key.pem",
                "-out",
                "server.csr",
            ],
        ]
        .concat(),
    );
    std::fs::write(
        dir.join("ext.cnf"),
        "subjectAltName=IP:127.0.0.1,DNS:localhost\nbasicConstraints=CA:FALSE\n",
    )
    .expect("ext");
    openssl(&[
        "x509",
        "-req",
        "-in",
        "server.csr",
        "-CA",
        "ca.pem",
        "-CAkey",
        "ca.key",
        "-CAcreateserial",
        "-days",
        "2",
        "-extfile",
        "ext.cnf",
        "-out",
        "cert.pem",
    ]);
    (path("ca.pem"), path("cert.pem"), path("key.pem"))
}

/// `magflow run` with a fresh certificate in `dir`: the CA's path, the process and what it
/// printed.
async fn start_https(dir: &Path) -> (String, tokio::process::Child, tests::process::Startup) {
    let (ca, cert, key) = make_certificate(dir);
    let mut child = magflow_in(dir)
        .arg("run")
        .env("MAGFLOW_TLS_CERT", &cert)
        .env("MAGFLOW_TLS_KEY", &key)
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn");
    let startup = tests::process::read_startup(&mut child).await;
    (ca, child, startup)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_api_speaks_https_only_with_a_certificate() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca, mut child, startup) = start_https(dir.path()).await;
    let admin = startup.key.expect("admin key printed");
    let base = startup.base;
    assert!(base.starts_with("https://127.0.0.1:"), "{}", startup.output);
    assert!(
        startup.output.contains("Swagger UI: https://"),
        "{}",
        startup.output
    );

    tests::install_tls_provider();
    let root = reqwest::Certificate::from_pem(&std::fs::read(&ca).expect("ca")).expect("pem");
    let trusting = reqwest::Client::builder()
        .add_root_certificate(root)
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    let answer = trusting
        .get(format!("{base}/api/v1/status"))
        .bearer_auth(&admin)
        .send()
        .await
        .expect("HTTPS request");
    assert_eq!(answer.status(), 200);

    // Plain HTTP on the same port gets no answer, and a client that does not trust the
    // certificate refuses the connection.
    let plain = base.replacen("https://", "http://", 1);
    let http = reqwest::Client::builder()
        .timeout(Duration::from_secs(10))
        .build()
        .expect("client");
    assert!(http.get(format!("{plain}/health")).send().await.is_err());
    assert!(http.get(format!("{base}/health")).send().await.is_err());
    // The server still serves after those failed handshakes.
    let health = trusting
        .get(format!("{base}/health"))
        .send()
        .await
        .expect("health");
    assert_eq!(health.status(), 200);

    // HTTP/2 inside TLS (ALPN): the body limits hold there too, with no length given.
    let body =
        futures::stream::iter((0..32).map(|_| Ok::<_, std::io::Error>(vec![b' '; 64 * 1024])));
    let refused = trusting
        .post(format!("{base}/api/v1/schedules"))
        .bearer_auth(&admin)
        .header("content-type", "application/json")
        .body(reqwest::Body::wrap_stream(body))
        .send()
        .await
        .expect("an answer");
    assert_eq!(refused.version(), reqwest::Version::HTTP_2);
    assert_eq!(refused.status(), 413);

    assert!(tests::process::stop(&mut child).await.success());
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_or_unreadable_key_stops_start_up() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (_, cert, key) = make_certificate(dir.path());
    let key_text = std::fs::read_to_string(&key).expect("key");
    for (env, expected) in [
        (
            vec![("MAGFLOW_TLS_CERT", cert.as_str())],
            "MAGFLOW_TLS_KEY: required",
        ),
        (
            vec![("MAGFLOW_TLS_KEY", key.as_str())],
            "MAGFLOW_TLS_CERT: required",
        ),
        (
            vec![
                ("MAGFLOW_TLS_CERT", cert.as_str()),
                ("MAGFLOW_TLS_KEY", cert.as_str()),
            ],
            "MAGFLOW_TLS_KEY: cannot read a PEM private key",
        ),
    ] {
        let out = tokio::time::timeout(
            Duration::from_secs(30),
            magflow_in(dir.path())
                .arg("run")
                .envs(env.iter().copied())
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .output(),
        )
        .await
        .expect("exits")
        .expect("output");
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{env:?} must stop start-up");
        assert!(stderr.contains(expected), "{env:?}: {stderr}");
        let body = key_text.lines().nth(1).expect("key body");
        assert!(!stderr.contains(body), "the key never shows: {stderr}");
    }
}

/// At most 256 TLS handshakes are in progress at once: connections that never say hello
/// cannot queue up without bound. Past the cap a new connection is closed unanswered;
/// once they go, the API answers again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn handshakes_in_progress_are_capped() {
    let dir = tempfile::tempdir().expect("temp dir");
    let (ca, mut child, startup) = start_https(dir.path()).await;
    let base = startup.base;
    let addr = base.trim_start_matches("https://").to_owned();
    tests::install_tls_provider();
    let root = reqwest::Certificate::from_pem(&std::fs::read(&ca).expect("ca")).expect("pem");
    let client = reqwest::Client::builder()
        .add_root_certificate(root)
        .timeout(Duration::from_secs(5))
        .build()
        .expect("client");
    // Silent connections: each holds a handshake place for up to 10 s.
    let mut silent = Vec::new();
    for _ in 0..256 {
        silent.push(
            tokio::net::TcpStream::connect(&addr)
                .await
                .expect("connect"),
        );
    }
    let until = tokio::time::Instant::now() + Duration::from_secs(8);
    let refused = loop {
        // The acceptor may not have taken every silent connection in yet.
        match client.get(format!("{base}/health")).send().await {
            Err(e) => break e,
            Ok(_) => {
                assert!(
                    tokio::time::Instant::now() < until,
                    "still answered past the cap"
                );
                tokio::time::sleep(Duration::from_millis(50)).await;
            }
        }
    };
    assert!(
        !refused.is_timeout(),
        "closed at once, not left hanging: {refused:?}"
    );
    drop(silent);
    let until = tokio::time::Instant::now() + Duration::from_secs(20);
    loop {
        if let Ok(resp) = client.get(format!("{base}/health")).send().await {
            assert_eq!(resp.status(), 200);
            break;
        }
        assert!(tokio::time::Instant::now() < until, "the API answers again");
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    assert!(tests::process::stop(&mut child).await.success());
}
