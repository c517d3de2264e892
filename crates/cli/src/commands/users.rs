//! `segsync users add|list`: manage accounts from the command line, which is how the first
//! admin comes to exist.

use std::io::{BufRead, Write};

use segsync_server::auth::{hash_password, new_token};
use segsync_store::{NewUser, Role, Store};

use super::serve::server_config;
use crate::cli::{ServerConfigArgs, UserAddArgs, UsersCommand};

pub(crate) async fn run(command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add(args) => add(args).await,
        UsersCommand::List(args) => list(args).await,
    }
}

async fn open_store(args: &ServerConfigArgs) -> anyhow::Result<Store> {
    let config = server_config(args, |figment| figment)?;
    Ok(Store::open(&config.database_url).await?)
}

async fn add(args: UserAddArgs) -> anyhow::Result<()> {
    let role = Role::parse(&args.role).expect("clap allows only the three roles");
    let (password, generated) = if args.password_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        (line.trim_end_matches(['\r', '\n']).to_owned(), false)
    } else {
        (new_token(""), true)
    };
    let password_hash =
        hash_password(&password).map_err(|problem| anyhow::anyhow!("the password: {problem}"))?;
    let store = open_store(&args.config).await?;
    let user = store
        .create_user(&NewUser {
            username: args.username.clone(),
            display_name: args
                .display_name
                .clone()
                .unwrap_or_else(|| args.username.clone()),
            role,
            password_hash,
        })
        .await?;
    let mut out = std::io::stdout();
    writeln!(
        out,
        "Added {} as {} ({}).",
        user.username, user.role, user.id
    )?;
    if generated {
        writeln!(out, "Password (shown once): {password}")?;
    }
    store.close().await;
    Ok(())
}

async fn list(args: ServerConfigArgs) -> anyhow::Result<()> {
    let store = open_store(&args).await?;
    let mut out = std::io::stdout();
    for user in store.users().await? {
        let state = if user.disabled { " (disabled)" } else { "" };
        writeln!(
            out,
            "{:<24} {:<12} {}{state}",
            user.username,
            user.role.as_str(),
            user.display_name
        )?;
    }
    store.close().await;
    Ok(())
}
