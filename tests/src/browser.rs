//! A real browser for the console's tests: Debian's Chromium, headless, driven over
//! WebDriver by its own chromedriver process (one per test, on a free port). At most two
//! browsers run at once: each is a few hundred MB and a core's worth of work.

use std::{
    path::PathBuf,
    process::Stdio,
    time::{Duration, Instant},
};

use fantoccini::{Client, ClientBuilder, Locator};
use serde_json::json;

static BROWSERS: tokio::sync::Semaphore = tokio::sync::Semaphore::const_new(2);

/// A headless Chromium and its driver; both end when this is dropped.
pub struct Browser {
    pub client: Client,
    driver: tokio::process::Child,
    /// chromedriver's process id: the browser it started is ended with the test, even
    /// by a panic, or every failed browser test left a Chromium running.
    driver_pid: Option<u32>,
    _turn: tokio::sync::SemaphorePermit<'static>,
}

impl Drop for Browser {
    fn drop(&mut self) {
        self.end_browser();
    }
}

fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// Where screenshots go: `target/screenshots` (the CI keeps them as artefacts).
pub fn screenshot_dir() -> PathBuf {
    let dir = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../target/screenshots");
    std::fs::create_dir_all(&dir).expect("screenshot dir");
    dir
}

impl Browser {
    /// Starts chromedriver and a browser window `width` pixels wide.
    pub async fn start(width: u32) -> Browser {
        let turn = BROWSERS.acquire().await.expect("never closed");
        let port = free_port();
        let driver = tokio::process::Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("chromedriver (Debian's chromium-driver; .ci/run installs it)");
        let url = format!("http://127.0.0.1:{port}");
        let mut caps = serde_json::Map::new();
        let mut options = json!({
                "binary": "/usr/bin/chromium",
                "args": [
                    "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    "--disable-background-networking", "--disable-component-update",
                    "--disable-sync", "--no-first-run", "--disable-quic",
                    format!("--window-size={},900", width.max(800)),
                ],
        });
        // Desktop windows cannot be narrower than about 500 px: a phone is emulated.
        if width < 800 {
            options["mobileEmulation"] =
                json!({ "deviceMetrics": { "width": width, "height": 812, "pixelRatio": 2.0 } });
        }
        caps.insert("goog:chromeOptions".into(), options);
        let deadline = Instant::now() + Duration::from_secs(30);
        let client = loop {
            let connector = hyper_util::client::legacy::connect::HttpConnector::new();
            match ClientBuilder::new(connector)
                .capabilities(caps.clone())
                .connect(&url)
                .await
            {
                Ok(client) => break client,
                Err(e) if Instant::now() < deadline => {
                    let _ = e;
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
                Err(e) => panic!("chromedriver at {url} did not start a browser: {e}"),
            }
        };
        Browser {
            client,
            driver_pid: driver.id(),
            driver,
            _turn: turn,
        }
    }

    pub async fn goto(&self, url: &str) {
        self.client.goto(url).await.expect("navigate");
    }

    /// Waits (up to 30 s) for an element matching `css`.
    pub async fn find(&self, css: &str) -> fantoccini::elements::Element {
        self.client
            .wait()
            .at_most(Duration::from_secs(30))
            .for_element(Locator::Css(css))
            .await
            .unwrap_or_else(|e| panic!("no element {css:?}: {e}"))
    }

    /// Clicks the element matching `css` (waiting up to 30 s for it) once the page has
    /// settled, and waits for the answer of a form it submits. A live page may replace
    /// its content between finding and clicking: then it is found again.
    pub async fn click(&self, css: &str) {
        // Not while the page waits for the answer to the last form (the script marks it
        // busy): the element found now would be replaced under the click.
        self.settle().await;
        let end = Instant::now() + Duration::from_secs(30);
        loop {
            match self.find(css).await.click().await {
                Ok(()) => return self.settle().await,
                Err(fantoccini::error::CmdError::Standard(e))
                    if e.error == fantoccini::error::ErrorStatus::StaleElementReference
                        && Instant::now() < end => {}
                Err(e) => panic!("click {css:?}: {e}"),
            }
        }
    }

    /// The serious and critical violations axe-core finds on the page, one line each
    /// (rule, help, the first elements). axe-core comes from npm (`.ci/run` installs it
    /// and names it in `MAGFLOW_TEST_AXE`).
    pub async fn axe(&self) -> Vec<String> {
        let path = std::env::var("MAGFLOW_TEST_AXE").unwrap_or_else(|_| {
            concat!(
                env!("CARGO_MANIFEST_DIR"),
                "/../target/axe/node_modules/axe-core/axe.min.js"
            )
            .to_owned()
        });
        let source = std::fs::read_to_string(&path).unwrap_or_else(|e| {
            panic!("axe-core at {path}: {e} (npm install --prefix target/axe axe-core, as .ci/run does)")
        });
        if self.eval("return typeof window.axe;").await != json!("object") {
            self.client
                .execute(&format!("{source}\nwindow.axe = axe; return null;"), vec![])
                .await
                .expect("load axe-core");
        }
        let found = self
            .eval(
                "return axe.run(document, { resultTypes: ['violations'] }).then(r => r.violations
                   .filter(v => v.impact === 'serious' || v.impact === 'critical')
                   .map(v => v.id + ' (' + v.impact + '): ' + v.help + ' at '
                     + v.nodes.slice(0, 3).map(n => n.target.join(' ')).join(' | ')));",
            )
            .await;
        serde_json::from_value(found).expect("a list of violations")
    }

    /// Waits until the page holds no form's answer still to come (the script marks
    /// `#main` busy from a submission until its answer is in place).
    pub async fn settle(&self) {
        self.until(
            "the page to settle",
            "return !document.querySelector('#main[aria-busy=true]');",
            Duration::from_secs(30),
        )
        .await;
    }

    /// Whether an element matching `css` is on the page now.
    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .expect("find")
            .is_empty()
    }

    /// Runs `script` (a function body that returns a value) in the page.
    pub async fn eval(&self, script: &str) -> serde_json::Value {
        self.client
            .execute(script, vec![])
            .await
            .unwrap_or_else(|e| panic!("script {script:?}: {e}"))
    }

    /// Polls `script` until it returns `true`, or panics naming `what` after `deadline`.
    pub async fn until(&self, what: &str, script: &str, deadline: Duration) {
        let end = Instant::now() + deadline;
        loop {
            if self.eval(script).await == json!(true) {
                return;
            }
            assert!(Instant::now() < end, "timed out waiting for {what}");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Signs in on `base`'s sign-in page with `name` and `password`.
    pub async fn sign_in(&self, base: &str, name: &str, password: &str) {
        self.goto(&format!("{base}/sign-in")).await;
        self.find("#name")
            .await
            .send_keys(name)
            .await
            .expect("type name");
        self.find("#password")
            .await
            .send_keys(password)
            .await
            .expect("type password");
        self.find("form[action='/sign-in'] button")
            .await
            .click()
            .await
            .expect("click sign in");
    }

    /// Signs out with the header's button and waits for the sign-in page.
    pub async fn sign_out(&self) {
        self.find("form[action='/sign-out'] button")
            .await
            .click()
            .await
            .expect("sign out");
        self.find("form[action='/sign-in']").await;
    }

    /// The page's `<html>` attribute `name`.
    pub async fn html_attr(&self, name: &str) -> String {
        self.eval(&format!(
            "return document.documentElement.getAttribute('{name}');"
        ))
        .await
        .as_str()
        .unwrap_or_default()
        .to_owned()
    }

    /// Saves a screenshot of the page as `name.png` in [`screenshot_dir`].
    pub async fn screenshot(&self, name: &str) {
        let png = self.client.screenshot().await.expect("screenshot");
        std::fs::write(screenshot_dir().join(format!("{name}.png")), png).expect("write png");
    }

    pub async fn close(mut self) {
        let _ = self.client.clone().close().await;
        self.end_browser();
        let _ = self.driver.kill().await;
    }

    /// Kills the processes chromedriver started (Chromium's renderers end with it).
    /// Called while chromedriver is not yet reaped, so its id names no other process.
    fn end_browser(&mut self) {
        if let Some(pid) = self.driver_pid.take() {
            let _ = std::process::Command::new("pkill")
                .args(["-KILL", "-P", &pid.to_string()])
                .status();
        }
    }
}
