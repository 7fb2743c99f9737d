//! `magflow run`, `magflow api`, `magflow worker`: wire the pieces and wait for a signal.

use std::future::Future;

use anyhow::Context;
use jobs::{JobContext, api_keys};
use poem::listener::{Acceptor, Listener, TcpListener};
use tokio_util::sync::CancellationToken;

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Parts {
    Both,
    Api,
    Worker,
}

/// Work to do once the API and the worker are up, before the last start-up line
/// (`magflow run --demo` syncs its demo accounts here).
pub type Hook = Box<
    dyn FnOnce(JobContext) -> std::pin::Pin<Box<dyn Future<Output = anyhow::Result<()>> + Send>>
        + Send,
>;

pub async fn run(config: jobs::Config, parts: Parts, hook: Option<Hook>) -> anyhow::Result<()> {
    // `run` is the embedded default and migrates itself; `api` and `worker` expect
    // `magflow migrate` to have run (a one-shot step in production).
    let ctx = JobContext::connect(config, parts == Parts::Both).await?;
    let shutdown = CancellationToken::new();
    tokio::spawn(wait_for_signal(shutdown.clone()));

    let mut tasks = tokio::task::JoinSet::new();
    let swagger = if parts == Parts::Worker {
        None
    } else {
        Some(start_api(&ctx, parts, &shutdown, &mut tasks).await?)
    };
    if parts == Parts::Worker
        && let Some(bind) = ctx.config.metrics_bind.clone()
    {
        let acceptor = TcpListener::bind(bind.clone())
            .into_acceptor()
            .await
            .with_context(|| format!("MAGFLOW_METRICS_BIND: cannot listen on {bind}"))?;
        let stop = shutdown.clone();
        let token = ctx.config.metrics_token.clone();
        tasks.spawn(async move {
            api::serve_metrics(acceptor, token, async move { stop.cancelled().await })
                .await
                .context("metrics server failed")
        });
    }
    if parts != Parts::Api {
        let ctx = ctx.clone();
        let stop = shutdown.clone();
        tasks.spawn(async move {
            worker::run(ctx, async move { stop.cancelled().await })
                .await
                .context("worker failed")
        });
    }
    if let Some(hook) = hook {
        tokio::select! {
            result = hook(ctx.clone()) => {
                if let Err(e) = result {
                    eprintln!("magflow: {e:#}");
                }
            }
            () = shutdown.cancelled() => {}
        }
    }
    if let Some(url) = swagger {
        // Last line of start-up output: scripts wait for it.
        println!("  Swagger UI: {url}");
    }
    // The first part to end (normally both, after a signal) decides the exit status.
    let mut result = Ok(());
    while let Some(joined) = tasks.join_next().await {
        shutdown.cancel();
        match joined {
            Ok(Ok(())) => {}
            Ok(Err(e)) => result = Err(e),
            Err(e) => result = Err(anyhow::anyhow!("a task panicked: {e}")),
        }
    }
    result
}

/// Starts the API (and prints its start-up lines); the Swagger UI's address.
async fn start_api(
    ctx: &JobContext,
    parts: Parts,
    shutdown: &CancellationToken,
    tasks: &mut tokio::task::JoinSet<anyhow::Result<()>>,
) -> anyhow::Result<String> {
    // Read before listening, so a bad certificate stops start-up with its own message.
    let tls = match (&ctx.config.tls_cert, &ctx.config.tls_key) {
        (Some(cert), Some(key)) => Some(api::tls::server_config(cert, key)?),
        _ => None,
    };
    let scheme = if tls.is_some() { "https" } else { "http" };
    let bind = ctx.config.bind.clone();
    let acceptor = TcpListener::bind(bind.clone())
        .into_acceptor()
        .await
        .with_context(|| format!("MAGFLOW_BIND: cannot listen on {bind}"))?;
    let addr = acceptor
        .local_addr()
        .first()
        .and_then(|a| a.as_socket_addr().copied())
        .context("listener has no address")?;
    let (new_key, new_user) = if parts == Parts::Both {
        (bootstrap_key(ctx).await?, bootstrap_user(ctx).await?)
    } else {
        (None, None)
    };
    let state = api::state(ctx.clone(), CancellationToken::new());
    let stop = shutdown.clone();
    tasks.spawn(async move {
        let stopped = async move { stop.cancelled().await };
        match tls {
            Some(config) => {
                let acceptor = api::tls::TlsAcceptor::new(acceptor, config);
                api::serve(state, acceptor, stopped).await
            }
            None => api::serve(state, acceptor, stopped).await,
        }
        .context("api server failed")
    });
    if let Some(key) = new_key {
        println!(
            "No API key existed, so an admin key was created. Use it as 'Authorization: Bearer <key>'; it is not shown again:"
        );
        println!("{key}");
    }
    if let Some(password) = new_user {
        println!(
            "No console user existed, so user 'admin' was created. Sign in at {scheme}://{addr}/ with this password; it is not shown again:"
        );
        println!("{password}");
    }
    println!(
        "magflow {} is up ({} database, {} queue)",
        env!("CARGO_PKG_VERSION"),
        ctx.config.database_url.scheme(),
        ctx.queue.backend_name()
    );
    println!("  Console:    {scheme}://{addr}/");
    if !ctx.config.console_require_2fa {
        println!(
            "  (console sign-in asks for no second factor: MAGFLOW_CONSOLE_REQUIRE_2FA=false)"
        );
    }
    println!("  API:        {scheme}://{addr}/api/v1");
    Ok(format!("{scheme}://{addr}/docs"))
}

/// On the very first start (no key was ever created), make an admin key so Swagger UI
/// is usable at once. Never again: a database whose keys were all revoked does not get a
/// fresh admin key from whoever can restart the process; it is told how to make one.
async fn bootstrap_key(ctx: &JobContext) -> anyhow::Result<Option<String>> {
    if api_keys::count_all(&ctx.db).await? > 0 {
        if api_keys::count_working(&ctx.db).await? == 0 {
            println!(
                "No API key works (every key is revoked or expired). Create one with: magflow api-key create --role admin --name NAME"
            );
        }
        return Ok(None);
    }
    let (key, model) = api_keys::create(&ctx.db, api_keys::Role::Admin, "bootstrap-admin").await?;
    jobs::audit::record(
        &ctx.db,
        "magflow run",
        jobs::audit::Action::ApiKeyCreate,
        &format!("api_key:{}", model.id),
        Some(serde_json::json!({ "name": "bootstrap-admin", "role": "admin" })),
    )
    .await?;
    Ok(Some(key))
}

/// On the very first start (no user was ever made), make user `admin` with a generated
/// password, so the console can be opened at once. Never again, like the first key.
async fn bootstrap_user(ctx: &JobContext) -> anyhow::Result<Option<String>> {
    if jobs::users::count(&ctx.db).await? > 0 {
        return Ok(None);
    }
    let password = jobs::users::password::generate();
    let user = jobs::users::create(&ctx.db, "admin", api_keys::Role::Admin, &password).await?;
    jobs::audit::record(
        &ctx.db,
        "magflow run",
        jobs::audit::Action::UserCreate,
        &format!("user:{}", user.id),
        Some(serde_json::json!({ "name": "admin", "role": "admin" })),
    )
    .await?;
    Ok(Some(password))
}

async fn wait_for_signal(shutdown: CancellationToken) {
    let ctrl_c = tokio::signal::ctrl_c();
    #[cfg(unix)]
    {
        let mut term =
            match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                Ok(s) => s,
                Err(e) => {
                    tracing::error!(error = %e, "cannot listen for SIGTERM");
                    let _ = ctrl_c.await;
                    shutdown.cancel();
                    return;
                }
            };
        tokio::select! {
            _ = ctrl_c => {}
            _ = term.recv() => {}
        }
    }
    #[cfg(not(unix))]
    let _ = ctrl_c.await;
    tracing::info!("signal received; shutting down");
    shutdown.cancel();
}
