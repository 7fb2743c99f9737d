//! Logs go to stderr, so stdout stays for what commands print (keys, addresses, figures).

use tracing_subscriber::{EnvFilter, fmt};

use crate::commands::Cli;

pub fn init(cli: &Cli) {
    let filter = EnvFilter::try_from_env("MAGFLOW_LOG").unwrap_or_else(|_| {
        EnvFilter::new("info,sqlx=warn,sea_orm=warn,apalis=warn,apalis_core=warn,poem=warn")
    });
    let json = cli.log_json || std::env::var("MAGFLOW_LOG_FORMAT").is_ok_and(|v| v == "json");
    let builder = fmt().with_env_filter(filter).with_writer(std::io::stderr);
    if json {
        builder.json().init();
    } else {
        builder.init();
    }
}
