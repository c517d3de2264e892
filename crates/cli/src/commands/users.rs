//! `segsync users add|list|disable|enable|unlock|role|password`: manage accounts from the command
//! line, which is how the first admin comes to exist. Every change is in the audit log, done
//! by nobody in particular (the command line has no signed-in user).

use std::io::{BufRead, Write};

use anyhow::Context;
use segsync_server::auth::{hash_password, new_token};
use segsync_store::{NewAuditEntry, NewUser, Role, Store, User};

use super::serve::server_config;
use crate::cli::{ServerConfigArgs, UserAddArgs, UserArgs, UserPasswordArgs, UsersCommand};

pub(crate) async fn run(command: UsersCommand) -> anyhow::Result<()> {
    match command {
        UsersCommand::Add(args) => add(args).await,
        UsersCommand::List(args) => list(args).await,
        UsersCommand::Disable(args) => set_disabled(args, true).await,
        UsersCommand::Enable(args) => set_disabled(args, false).await,
        UsersCommand::Unlock(args) => {
            change(&args, "unlocked", |store, user| async move {
                store.clear_login_failures(&user.username).await?;
                Ok(format!("{} may sign in again.", user.username))
            })
            .await
        }
        UsersCommand::Role(args) => {
            let role = Role::parse(&args.role).expect("clap allows only the three roles");
            change(&args.user, "role_changed", |store, user| async move {
                store.set_user_role(user.id, role).await?;
                Ok(format!("{} is now {role}.", user.username))
            })
            .await
        }
        UsersCommand::Password(args) => password(args).await,
    }
}

/// Disables or enables the user.
async fn set_disabled(args: UserArgs, disabled: bool) -> anyhow::Result<()> {
    let action = if disabled { "disabled" } else { "enabled" };
    change(&args, action, |store, user| async move {
        store.set_user_disabled(user.id, disabled).await?;
        Ok(if disabled {
            format!(
                "{} is disabled; their sessions and API tokens ended.",
                user.username
            )
        } else {
            format!("{} is enabled.", user.username)
        })
    })
    .await
}

/// Sets the user's password, read from standard input or generated.
async fn password(args: UserPasswordArgs) -> anyhow::Result<()> {
    let (password, generated) = read_or_generate_password(args.password_stdin)?;
    let hash =
        hash_password(&password).map_err(|problem| anyhow::anyhow!("the password: {problem}"))?;
    change(&args.user, "password_changed", |store, user| async move {
        let ended_tokens = store
            .set_user_password(user.id, &hash, segsync_store::KeptCredential::default())
            .await?;
        let mut said = format!(
            "{}'s password is set; their sessions and API tokens ({}) ended.",
            user.username,
            ended_tokens.len()
        );
        if generated {
            said.push_str(&format!("\nPassword (shown once): {password}"));
        }
        Ok(said)
    })
    .await
}

/// Finds the user by name, makes the change, writes it to the audit log and says what it did.
async fn change<F, Fut>(args: &UserArgs, action: &str, make: F) -> anyhow::Result<()>
where
    F: FnOnce(Store, User) -> Fut,
    Fut: std::future::Future<Output = anyhow::Result<String>>,
{
    let store = open_store(&args.config).await?;
    let user = store
        .user_by_username(&args.username)
        .await?
        .with_context(|| format!("there is no user {:?}", args.username))?;
    let said = make(store.clone(), user.clone()).await?;
    store
        .audit(NewAuditEntry {
            actor_id: None,
            action,
            object_kind: "user",
            object_id: &user.id.to_string(),
            object_name: &user.username,
            detail: Some(serde_json::json!({ "by": "command line" })),
        })
        .await?;
    writeln!(std::io::stdout(), "{said}")?;
    store.close().await;
    Ok(())
}

/// A password from the first line of standard input, or a strong one generated (true).
pub(crate) fn read_or_generate_password(from_stdin: bool) -> anyhow::Result<(String, bool)> {
    if from_stdin {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok((line.trim_end_matches(['\r', '\n']).to_owned(), false))
    } else {
        Ok((new_token(""), true))
    }
}

async fn open_store(args: &ServerConfigArgs) -> anyhow::Result<Store> {
    let config = server_config(args, |figment| figment)?;
    Ok(Store::open(&config.database_url).await?)
}

async fn add(args: UserAddArgs) -> anyhow::Result<()> {
    let role = Role::parse(&args.role).expect("clap allows only the three roles");
    let (password, generated) = read_or_generate_password(args.password_stdin)?;
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
