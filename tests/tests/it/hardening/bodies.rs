//! Request bodies against a real `magflow run` process, measured from `/proc`: the role is
//! checked before a body byte is read, limits hold over HTTP/1.1 and HTTP/2 with or
//! without a length, and large bodies cannot add up.

use std::{process::Stdio, time::Duration};

use tests::process::{magflow_in, read_startup};
use tokio::process::Child;

const MIB: u64 = 1024 * 1024;

/// A `/proc/<pid>/status` field in bytes (VmRSS, VmHWM).
fn proc_status(pid: u32, field: &str) -> u64 {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).expect("proc status");
    status
        .lines()
        .find_map(|l| l.strip_prefix(field)?.strip_prefix(':'))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse::<u64>().ok())
        .map(|kb| kb * 1024)
        .unwrap_or_else(|| panic!("{field} in /proc/{pid}/status"))
}

/// Starts the peak (VmHWM) afresh at the current RSS.
fn reset_peak(pid: u32) {
    std::fs::write(format!("/proc/{pid}/clear_refs"), "5").expect("reset the peak RSS");
}

/// A body of `len` bytes made as it is sent, with no length: reqwest sends it chunked
/// over HTTP/1.1 and as DATA frames without a content-length over HTTP/2.
fn endless(len: u64) -> reqwest::Body {
    const CHUNK: usize = 64 * 1024;
    let chunks = len.div_ceil(CHUNK as u64);
    reqwest::Body::wrap_stream(futures::stream::iter(
        (0..chunks).map(|_| Ok::<_, std::io::Error>(vec![b' '; CHUNK])),
    ))
}

struct Api {
    child: Child,
    base: String,
    admin: String,
    viewer: String,
    _dir: tempfile::TempDir,
}

async fn start_api(env: &[(&str, &str)]) -> Api {
    let dir = tempfile::tempdir().expect("temp dir");
    let mut child = magflow_in(dir.path())
        .arg("run")
        .envs(env.iter().copied())
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .expect("spawn magflow run");
    let startup = read_startup(&mut child).await;
    let admin = startup.key.expect("admin key printed");
    let client = tests::Client::new(startup.base.clone());
    let (status, created) = client
        .post(
            "/api/v1/keys",
            Some(&admin),
            &serde_json::json!({ "name": "watcher", "role": "viewer" }),
        )
        .await;
    assert_eq!(status, 201, "{created}");
    let viewer = created["key"].as_str().expect("viewer key").to_owned();
    Api {
        child,
        base: startup.base,
        admin,
        viewer,
        _dir: dir,
    }
}

async fn post(client: &reqwest::Client, url: &str, key: &str, body: reqwest::Body) -> u16 {
    client
        .post(url)
        .bearer_auth(key)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
        .map(|r| r.status().as_u16())
        .unwrap_or_else(|e| panic!("no answer from {url}: {e:?}"))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn role_before_body_and_limits_over_every_protocol() {
    let _turn = tests::heavy_turn().await;
    let mut api = start_api(&[]).await;
    let pid = api.child.id().expect("pid");
    let runs = format!("{}/api/v1/runs", api.base);
    let h2 = reqwest::Client::builder()
        .http2_prior_knowledge()
        .timeout(Duration::from_secs(120))
        .build()
        .expect("HTTP/2 client");

    let before = proc_status(pid, "VmRSS");
    reset_peak(pid);
    // 300 MB without a length over HTTP/2: a viewer is refused before the body is read,
    // an admin's body is read up to the route's 64 MiB and refused there.
    assert_eq!(
        post(&h2, &runs, &api.viewer, endless(300_000_000)).await,
        403
    );
    assert_eq!(
        post(&h2, &runs, &api.admin, endless(300_000_000)).await,
        413
    );
    // HTTP/1.1 chunked: the same answers.
    let chunked = tests::http::chunked_post;
    let (viewer, admin) = (Some(api.viewer.as_str()), Some(api.admin.as_str()));
    assert_eq!(
        chunked(&api.base, "/api/v1/runs", viewer, 64 << 20).await,
        403
    );
    assert_eq!(
        chunked(&api.base, "/api/v1/runs", admin, 65 << 20).await,
        413
    );
    // No key at all: 401, body unread.
    let anonymous = h2
        .post(&runs)
        .body(endless(64 * MIB))
        .send()
        .await
        .expect("answer");
    assert_eq!(anonymous.status().as_u16(), 401);
    let peak = proc_status(pid, "VmHWM");
    assert!(
        peak.saturating_sub(before) < 32 * MIB,
        "the API's RSS rose by {} MiB (from {} MiB)",
        peak.saturating_sub(before) / MIB,
        before / MIB
    );

    // 1 MiB elsewhere, over HTTP/2 too; a small body still reaches the handler.
    let schedules = format!("{}/api/v1/schedules", api.base);
    assert_eq!(
        post(&h2, &schedules, &api.admin, endless(2 * MIB)).await,
        413
    );
    assert_eq!(
        post(&h2, &schedules, &api.admin, reqwest::Body::from("{}")).await,
        422
    );
    // A declared length over the limit is refused at once.
    let declared = h2
        .post(&schedules)
        .bearer_auth(&api.admin)
        .header("content-type", "application/json")
        .body(vec![b' '; 2 * MIB as usize])
        .send()
        .await
        .expect("answer");
    assert_eq!(declared.status().as_u16(), 413);
    assert!(tests::process::stop(&mut api.child).await.success());
}

/// A bulk update of `items` offers, padded to about `len` bytes of JSON.
fn bulk_body(len: usize) -> Vec<u8> {
    let item = |i: usize| {
        format!(
            r#"{{"account":"main","id":{},"sale_price":"10.5","stock":{}}}"#,
            i + 1,
            i % 50
        )
    };
    let mut body = String::from(r#"{"kind":"bulk_update","params":{"items":["#);
    let mut i = 0;
    while body.len() + 200 < len {
        if i > 0 {
            body.push(',');
        }
        body.push_str(&item(i));
        i += 1;
        // Blanks between items are valid JSON and make the body large without more items.
        body.push_str(&" ".repeat(500));
    }
    body.push_str("]}}");
    body.into_bytes()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn large_bodies_take_turns() {
    let _turn = tests::heavy_turn().await;
    let mut api = start_api(&[("MAGFLOW_API_LARGE_BODIES", "2")]).await;
    let pid = api.child.id().expect("pid");
    let runs = format!("{}/api/v1/runs", api.base);
    let body = bulk_body(63 * MIB as usize);
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(300))
        .build()
        .expect("client");
    reset_peak(pid);
    let uploads = (0..10).map(|_| {
        let (client, runs, key, body) = (
            client.clone(),
            runs.clone(),
            api.admin.clone(),
            body.clone(),
        );
        async move {
            let resp = client
                .post(&runs)
                .bearer_auth(key)
                .header("content-type", "application/json")
                .body(reqwest::Body::wrap_stream(futures::stream::iter(
                    body.chunks(256 * 1024)
                        .map(|c| Ok::<_, std::io::Error>(c.to_vec()))
                        .collect::<Vec<_>>(),
                )))
                .send()
                .await
                .expect("an answer");
            let retry_after = resp.headers().get("retry-after").is_some();
            (resp.status().as_u16(), retry_after)
        }
    });
    let answers = futures::future::join_all(uploads).await;
    let peak = proc_status(pid, "VmHWM");
    assert!(peak < 1024 * MIB, "peak RSS {} MiB", peak / MIB);
    for (status, retry_after) in &answers {
        // Taken in (and refused for the accounts it names, which do not exist), or told
        // to come back later.
        assert!(
            *status == 422 || (*status == 503 && *retry_after),
            "{answers:?}"
        );
    }
    assert!(answers.iter().any(|(s, _)| *s == 422), "{answers:?}");
    assert!(tests::process::stop(&mut api.child).await.success());
}

/// `{"kind": KIND, "params": PARAMS}` where `hole` in PARAMS becomes an array of `zeros`
/// zeros: tiny on the wire (2 bytes each), 32 bytes each as a `serde_json::Value`.
fn with_zeros(kind: &str, params: &str, zeros: usize) -> String {
    let array = format!("[{}0]", "0,".repeat(zeros - 1));
    format!(
        r#"{{"kind":"{kind}","params":{}}}"#,
        params.replace("hole", &array)
    )
}

/// A request body is read straight into the kind's own parameters: an array of 30
/// million numbers inside a bulk item, or in a field a ping does not have, is skipped as it
/// is read, not built as a tree of JSON values (about a GiB) first.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn parameters_are_read_without_a_tree_of_values() {
    let _turn = tests::heavy_turn().await;
    let mut api = start_api(&[]).await;
    let pid = api.child.id().expect("pid");
    // What is measured is memory: a debug build reads each body in about 8 s alone, and
    // took over 30 s beside the other tests in two CI runs.
    let client = tests::Client::with_timeout(api.base.clone(), Duration::from_secs(180));
    let zeros = 30_000_000;
    let cases = [
        (
            "bulk_update",
            r#"{"items":[{"account":"main","id":1,"sale_price":hole}]}"#,
            "items",
        ),
        ("ping", r#"{"steps":1,"extra":hole}"#, "params.extra"),
    ];
    for (kind, params, field) in cases {
        let body = with_zeros(kind, params, zeros);
        assert!(body.len() < 63 * MIB as usize);
        let before = proc_status(pid, "VmRSS");
        reset_peak(pid);
        let (status, answer) = client
            .post_raw("/api/v1/runs", Some(&api.admin), "application/json", &body)
            .await;
        let peak = proc_status(pid, "VmHWM");
        assert_eq!(status, 422, "{kind}: {answer}");
        assert_eq!(answer["field"], field, "{kind}: {answer}");
        assert!(
            peak.saturating_sub(before) < 384 * MIB,
            "{kind}: RSS rose by {} MiB",
            peak.saturating_sub(before) / MIB
        );
        if kind == "bulk_update" {
            let item = &answer["items"][0];
            assert_eq!(
                (&item["row"], &item["field"]),
                (&1.into(), &"sale_price".into())
            );
            assert_eq!(item["reason"], "must be a number", "{answer}");
        }
    }
    assert!(tests::process::stop(&mut api.child).await.success());
}
