//! The CLI's way into a running magflow: its HTTP API, with an API key.

use anyhow::{Context, bail};
use serde_json::Value;

use super::follow::RunLine;

/// Where the API is and which key to use.
#[derive(clap::Args, Debug, Clone)]
pub struct RemoteArgs {
    /// Base URL of the magflow API (default: the `bind` setting on this machine).
    #[arg(long, env = "MAGFLOW_API_URL")]
    pub api_url: Option<String>,
    /// An API key (admin to start runs; any to watch).
    #[arg(long, env = "MAGFLOW_API_KEY", hide_env_values = true)]
    pub api_key: String,
}

pub struct Remote {
    http: reqwest::Client,
    base: String,
    key: String,
}

impl Remote {
    pub fn new(args: &RemoteArgs, config: &jobs::Config) -> anyhow::Result<Remote> {
        let _ = rustls::crypto::ring::default_provider().install_default();
        let base = args
            .api_url
            .clone()
            .unwrap_or_else(|| format!("http://{}", config.bind))
            .trim_end_matches('/')
            .to_owned();
        Ok(Remote {
            http: reqwest::Client::builder().build()?,
            base,
            key: args.api_key.clone(),
        })
    }

    async fn call(&self, request: reqwest::RequestBuilder) -> anyhow::Result<(u16, Value)> {
        let response = request
            .bearer_auth(&self.key)
            .send()
            .await
            .with_context(|| format!("cannot reach the magflow API at {}", self.base))?;
        let status = response.status().as_u16();
        let body = response.json::<Value>().await.unwrap_or(Value::Null);
        Ok((status, body))
    }

    pub async fn get(&self, path: &str) -> anyhow::Result<Value> {
        let (status, body) = self
            .call(self.http.get(format!("{}{path}", self.base)))
            .await?;
        if status != 200 {
            bail!("GET {path}: HTTP {status}: {}", message(&body));
        }
        Ok(body)
    }

    pub async fn post(&self, path: &str, payload: &Value) -> anyhow::Result<(u16, Value)> {
        self.call(self.http.post(format!("{}{path}", self.base)).json(payload))
            .await
    }

    /// A run, or its children when it is a parent, as follower lines.
    pub async fn run_lines(&self, id: &str) -> anyhow::Result<Vec<RunLine>> {
        let run = self.get(&format!("/api/v1/runs/{id}")).await?;
        let children = self
            .get(&format!("/api/v1/runs?parent_id={id}&limit=100"))
            .await?;
        let items = children["items"].as_array().cloned().unwrap_or_default();
        if items.is_empty() {
            return Ok(vec![RunLine::from_view(&run)]);
        }
        Ok(items.iter().rev().map(RunLine::from_view).collect())
    }
}

pub fn message(body: &Value) -> String {
    body["message"]
        .as_str()
        .map_or_else(|| body.to_string(), str::to_owned)
}
