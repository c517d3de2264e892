//! `cc-sandbox`: runs the Constant Contact sandbox standalone.

use std::io::Write;

use anyhow::Context;
use cc_sandbox::SandboxArgs;
use clap::Parser;

/// A stateful Constant Contact v3 sandbox for trying segsync, or any client, offline.
#[derive(Debug, Parser)]
#[command(version)]
struct Args {
    #[command(flatten)]
    sandbox: SandboxArgs,
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    tracing_subscriber::fmt()
        .with_env_filter(
            tracing_subscriber::EnvFilter::try_from_default_env().unwrap_or_else(|_| "info".into()),
        )
        .init();
    let args = Args::parse().sandbox;
    let secret = args.secret();
    let sandbox = cc_sandbox::spawn(args.config(), args.address())
        .await
        .with_context(|| format!("binding {}", args.address()))?;
    let base = sandbox.base_url();
    let mut out = std::io::stdout().lock();
    writeln!(out, "Constant Contact sandbox listening on {base}")?;
    writeln!(out, "  API base URL:   {base}/v3")?;
    writeln!(out, "  Auth base URL:  {base}/oauth2/default/v1")?;
    writeln!(out, "  client id:      {}", args.client_id)?;
    for uri in &args.redirect_uris {
        writeln!(out, "  redirect URI:   {uri}")?;
    }
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
