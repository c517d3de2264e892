//! `segsync privacy erase|lookup`: serve personal-data requests from the command line, on the
//! server's store and connections. Audited as done by nobody in particular (the command line
//! has no signed-in user), by keyed hash, never by address.

use std::io::Write;

use anyhow::Context;
use segsync_app::privacy::{ErasureForm, request_erasure, subject_access};
use segsync_runs::Carried;
use segsync_server::AppState;

use super::serve::server_config;
use crate::cli::{EraseArgs, LookupArgs, PrivacyCommand};

pub(crate) async fn run(command: PrivacyCommand) -> anyhow::Result<()> {
    match command {
        PrivacyCommand::Erase(args) => erase(args).await,
        PrivacyCommand::Lookup(args) => lookup(args).await,
    }
}

async fn erase(args: EraseArgs) -> anyhow::Result<()> {
    let mut entries = args.emails;
    if let Some(file) = &args.file {
        entries.push(
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?,
        );
    }
    anyhow::ensure!(
        !entries.is_empty(),
        "give the addresses to erase, or --file with one per line (or a CSV with an email column)"
    );
    let state = AppState::open(server_config(&args.config, |figment| figment)?).await?;
    let requested = request_erasure(&state.app, None, &ErasureForm { emails: entries })
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    let mut out = std::io::stdout();
    for refused in &requested.refused {
        writeln!(
            out,
            "line {}: {:?} is not an address ({}); left out",
            refused.line, refused.value, refused.problem
        )?;
    }
    let id = requested.erasure.id;
    writeln!(
        out,
        "Erasure {id}: {} people; their tombstones are in force.",
        requested.erasure.people
    )?;
    loop {
        match state.runs.carry_out_erasure(id).await? {
            Carried::Done | Carried::Failed(_) | Carried::NotTaken => break,
            Carried::Waiting => {
                writeln!(
                    out,
                    "Waiting for runs that began before the request to end…"
                )?;
                tokio::time::sleep(std::time::Duration::from_secs(5)).await;
            }
        }
    }
    let erasure = state.store.erasure(id).await?;
    writeln!(
        out,
        "{}",
        serde_json::to_string_pretty(&segsync_app::privacy::erasure_view(erasure.clone()))?
    )?;
    match erasure.failure {
        Some(failure) => anyhow::bail!(
            "erasure {id} failed: {failure}; retry it with POST /api/v1/privacy/erasures/{id}/retry (the tombstones stay in force)"
        ),
        None => Ok(()),
    }
}

async fn lookup(args: LookupArgs) -> anyhow::Result<()> {
    let state = AppState::open(server_config(&args.config, |figment| figment)?).await?;
    let access = subject_access(&state.app, None, &args.email)
        .await
        .map_err(|error| anyhow::anyhow!("{error}"))?;
    writeln!(
        std::io::stdout(),
        "{}",
        serde_json::to_string_pretty(&access)?
    )?;
    Ok(())
}
