//! `cc-sandbox`: runs the Constant Contact sandbox standalone.

use std::io::Write;
use std::net::{IpAddr, SocketAddr};
use std::time::Duration;

use anyhow::Context;
use cc_sandbox::SandboxConfig;
use clap::Parser;

/// A stateful Constant Contact v3 sandbox for trying segsync, or any client, offline.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    /// Port to listen on (0 picks a free one).
    #[arg(long, default_value_t = 8911, env = "CC_SANDBOX_PORT")]
    port: u16,
    /// Address to listen on.
    #[arg(long, default_value = "127.0.0.1")]
    host: IpAddr,
    /// The API key (client id) registered with the sandbox.
    #[arg(long, default_value = "sandbox-client")]
    client_id: String,
    /// The client secret; empty registers a public client that must use PKCE.
    #[arg(long, default_value = "sandbox-secret")]
    client_secret: String,
    /// Lists that exist from the start (repeatable).
    #[arg(long = "list", default_values_t = ["Newsletter".to_owned(), "VIP customers".to_owned()])]
    lists: Vec<String>,
    /// Approve authorisation requests without showing the consent page.
    #[arg(long)]
    auto_approve: bool,
    /// Requests per second per client id.
    #[arg(long, default_value_t = 4)]
    requests_per_second: u32,
    /// Requests per UTC day per client id.
    #[arg(long, default_value_t = 10_000)]
    daily_quota: u32,
    /// Lifetime of access tokens, in seconds.
    #[arg(long, default_value_t = 86_400)]
    token_lifetime_seconds: u64,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse();
    let secret = (!args.client_secret.is_empty()).then_some(args.client_secret.as_str());
    let config = SandboxConfig {
        auto_approve: args.auto_approve,
        requests_per_second: args.requests_per_second,
        daily_quota: args.daily_quota,
        access_token_lifetime: Duration::from_secs(args.token_lifetime_seconds),
        ..SandboxConfig::default()
    }
    .with_client(&args.client_id, secret);
    let config = SandboxConfig {
        seed_lists: args.lists.clone(),
        ..config
    };
    let sandbox = cc_sandbox::spawn(config, SocketAddr::new(args.host, args.port))
        .await
        .with_context(|| format!("binding {}:{}", args.host, args.port))?;
    let base = sandbox.base_url();
    let mut out = std::io::stdout().lock();
    writeln!(out, "Constant Contact sandbox listening on {base}")?;
    writeln!(out, "  API base URL:   {base}/v3")?;
    writeln!(out, "  Auth base URL:  {base}/oauth2/default/v1")?;
    writeln!(out, "  client id:      {}", args.client_id)?;
    writeln!(
        out,
        "  client secret:  {}",
        secret.unwrap_or("(none: public client, PKCE only)")
    )?;
    for list in sandbox.state().lists() {
        writeln!(out, "  list:           {} ({})", list.name, list.list_id)?;
    }
    writeln!(
        out,
        "  admin API:      {base}/__sandbox/lists, /__sandbox/requests, POST /__sandbox/faults"
    )?;
    writeln!(out, "Press Ctrl-C to stop.")?;
    drop(out);
    sandbox.serve_until_ctrl_c().await?;
    Ok(())
}
