//! `magflow emag-sim`: the eMAG simulator as a process, for demos, manual testing and
//! benchmarks. Prints its base URL, then serves until Ctrl-C or SIGTERM.

use jobs::emag::sim::{Faults, LimitMode, SimConfig, SimLogin, Simulator};

#[derive(clap::Args, Debug)]
pub struct EmagSimArgs {
    /// Address to listen on (port 0 picks a free one).
    #[arg(long, default_value = "127.0.0.1:8090")]
    bind: String,
    /// A seller login, `NAME:PASSWORD` or `NAME:PASSWORD:fbe`; repeat for several
    /// (default: `main:main-secret` and `fbe:fbe-secret:fbe`).
    #[arg(long = "login", value_parser = SimLogin::parse)]
    logins: Vec<SimLogin>,
    /// Offers per login.
    #[arg(long, default_value_t = 2500)]
    offers: usize,
    /// Orders per login.
    #[arg(long, default_value_t = 3000)]
    orders: usize,
    /// Seed of the generated data: the same seed gives the same data.
    #[arg(long, default_value_t = 42)]
    seed: u64,
    /// Request limits: `emag` (12/s orders, 3/s the rest, per login), `off`, or `N/s`.
    #[arg(long, default_value = "emag", value_parser = LimitMode::parse)]
    limits: LimitMode,
    /// Count limits per client IP instead of per login.
    #[arg(long)]
    limit_by_ip: bool,
    /// Faults: `error=0.1,html=0.5,latency=50-200,hang=0.01,hang_ms=65000,burst429=5`
    /// (change them at run time with `POST /__sim/faults`).
    #[arg(long, default_value = "", value_parser = Faults::parse)]
    faults: Faults,
    /// HTTP status for bad credentials.
    #[arg(long, default_value_t = 401)]
    auth_status: u16,
    /// HTTP status for a non-whitelisted IP (`POST /__sim/ip-block` turns it on per login).
    #[arg(long, default_value_t = 200)]
    ip_status: u16,
    /// Reject `itemsPerPage` outside 1–100 instead of clamping it.
    #[arg(long)]
    reject_page_size: bool,
    /// Make `order/read` without `type` return every type (default: only type 3).
    #[arg(long)]
    all_order_types_by_default: bool,
    /// Accept `PATCH offer_stock` with `{"stock": [{"warehouse_id": 1, "value": n}]}` too
    /// (the predecessor's shape; eMAG documents only `{"stock": n}`).
    #[arg(long)]
    offer_stock_array: bool,
}

pub async fn run(args: EmagSimArgs) -> anyhow::Result<()> {
    let mut config = SimConfig {
        offers: args.offers,
        orders: args.orders,
        seed: args.seed,
        limits: args.limits,
        limit_by_ip: args.limit_by_ip,
        faults: args.faults,
        auth_status: args.auth_status,
        ip_status: args.ip_status,
        reject_page_size: args.reject_page_size,
        default_order_type_3: !args.all_order_types_by_default,
        offer_stock_array: args.offer_stock_array,
        ..SimConfig::default()
    };
    if !args.logins.is_empty() {
        config.logins = args.logins;
    }
    let sim = Simulator::start(config, &args.bind).await?;
    println!("{}", sim.base_url);
    tokio::signal::ctrl_c().await?;
    sim.stop();
    Ok(())
}
