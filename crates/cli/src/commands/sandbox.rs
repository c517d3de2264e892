//! `segsync sandbox`: the Constant Contact sandbox, standalone.

use std::io::Write;
use std::net::SocketAddr;

use cc_sandbox::SandboxConfig;

use crate::cli::SandboxArgs;

pub(crate) async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let secret = (!args.client_secret.is_empty()).then_some(args.client_secret.as_str());
    let config = SandboxConfig {
        auto_approve: args.auto_approve,
        seed_lists: args.lists.clone(),
        ..SandboxConfig::default()
    }
    .with_client(&args.client_id, secret);
    let sandbox = cc_sandbox::spawn(config, SocketAddr::from(([127, 0, 0, 1], args.port))).await?;
    let base = sandbox.base_url();
    let mut out = std::io::stdout().lock();
    writeln!(out, "Constant Contact sandbox listening on {base}")?;
    writeln!(out, "  api_base_url  = \"{base}/v3\"")?;
    writeln!(out, "  auth_base_url = \"{base}/oauth2/default/v1\"")?;
    writeln!(out, "  client_id     = \"{}\"", args.client_id)?;
    for list in sandbox.state().lists() {
        writeln!(out, "  list {:<20} {}", list.name, list.list_id)?;
    }
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()?;
    drop(out);
    sandbox.serve_until_ctrl_c().await?;
    Ok(())
}
