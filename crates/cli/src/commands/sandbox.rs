//! `segsync sandbox`: the Constant Contact sandbox, standalone.

use std::io::Write;

use anyhow::Context;
use cc_sandbox::SandboxArgs;

/// Every option of the standalone sandbox, from its one definition.
pub(crate) async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let sandbox = cc_sandbox::spawn(args.config(), args.address())
        .await
        .with_context(|| format!("binding {}", args.address()))?;
    let base = sandbox.base_url();
    let mut out = std::io::stdout().lock();
    writeln!(out, "Constant Contact sandbox listening on {base}")?;
    writeln!(out, "  api_base_url  = \"{base}/v3\"")?;
    writeln!(out, "  auth_base_url = \"{base}/oauth2/default/v1\"")?;
    writeln!(out, "  client_id     = \"{}\"", args.client_id)?;
    for uri in &args.redirect_uris {
        writeln!(out, "  redirect URI    {uri}")?;
    }
    for list in sandbox.state().lists() {
        writeln!(out, "  list {:<20} {}", list.name, list.list_id)?;
    }
    writeln!(out, "Press Ctrl-C to stop.")?;
    out.flush()?;
    drop(out);
    sandbox.serve_until_ctrl_c().await?;
    Ok(())
}
