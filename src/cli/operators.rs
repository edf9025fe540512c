//! `operators`: people who may use the operator API and console, their roles and tokens. The
//! CLI acts as an admin (whoever runs it can already reach the database) and every change is
//! recorded in the audit log as `cli:<login>`.

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use entity::operators::Role;
use sea_orm::DatabaseConnection;
use secrecy::{ExposeSecret, SecretString};

use crate::{
    access::{self, AccessError},
    config::Config,
    domain::{Actor, actor::role_name},
    store,
};

/// Arguments of `operators`.
#[derive(Debug, clap::Args)]
pub struct OperatorsArgs {
    /// What to do.
    #[command(subcommand)]
    pub command: OperatorsCommand,
}

/// `operators` subcommands.
#[derive(Debug, Subcommand)]
pub enum OperatorsCommand {
    /// Create an operator and print their personal API token (shown this once).
    Add {
        /// Login name.
        name: String,
        /// What they may do.
        #[arg(long, value_enum)]
        role: RoleArg,
    },
    /// List operators: name, role, password set, created, revoked.
    List,
    /// Revoke an operator and all their tokens.
    Revoke {
        /// Login name.
        name: String,
    },
    /// Change an operator's role.
    SetRole {
        /// Login name.
        name: String,
        /// The new role.
        #[arg(value_enum)]
        role: RoleArg,
    },
    /// Issue another token for an operator (printed once).
    Token {
        /// Login name.
        name: String,
    },
    /// Set an operator's console password from the environment variable `--password-env`
    /// names (never from an argument, which shell history and `ps` would keep).
    Passwd {
        /// Login name.
        name: String,
        /// The variable holding the password.
        #[arg(long, default_value = "CLIENTSYNC_PASSWORD")]
        password_env: String,
    },
}

/// A role as the CLI spells it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
pub enum RoleArg {
    /// Read only.
    Viewer,
    /// Resolve, link, unlink, pin, replay.
    Steward,
    /// Operators, tokens and bulk actions too.
    Admin,
}

impl From<RoleArg> for Role {
    fn from(r: RoleArg) -> Self {
        match r {
            RoleArg::Viewer => Role::Viewer,
            RoleArg::Steward => Role::Steward,
            RoleArg::Admin => Role::Admin,
        }
    }
}

/// Runs `operators` against the configured store.
pub async fn operators(config: &Config, args: &OperatorsArgs) -> anyhow::Result<()> {
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
    store::migrate(&db).await.context("running migrations")?;
    let login = std::env::var("USER").or_else(|_| std::env::var("LOGNAME")).ok();
    let actor = Actor::cli(login.as_deref());
    for line in run(&db, &actor, &args.command, |name| std::env::var(name).ok()).await? {
        println!("{line}");
    }
    Ok(())
}

/// The lines `operators` prints for `command`, once it is done; `env` reads variables.
pub async fn run(
    db: &DatabaseConnection,
    actor: &Actor,
    command: &OperatorsCommand,
    env: impl Fn(&str) -> Option<String>,
) -> Result<Vec<String>, AccessError> {
    Ok(match command {
        OperatorsCommand::Add { name, role } => {
            let (operator, issued) = access::add(db, actor, name, (*role).into()).await?;
            vec![
                format!(
                    "operator `{}` added as {}",
                    operator.name,
                    role_name(operator.role)
                ),
                format!(
                    "token (shown once; store it now): {}",
                    issued.secret.expose_secret()
                ),
            ]
        }
        OperatorsCommand::List => access::list(db, actor)
            .await?
            .into_iter()
            .map(|o| {
                format!(
                    "{}\t{}\t{}\t{}\t{}",
                    o.name,
                    role_name(o.role),
                    if o.password_hash.is_some() {
                        "password"
                    } else {
                        "-"
                    },
                    o.created_at.to_rfc3339(),
                    o.revoked_at
                        .map_or("-".to_owned(), |t| format!("revoked {}", t.to_rfc3339())),
                )
            })
            .collect(),
        OperatorsCommand::Revoke { name } => {
            access::revoke(db, actor, name).await?;
            vec![format!("operator `{name}` and their tokens are revoked")]
        }
        OperatorsCommand::SetRole { name, role } => {
            access::set_role(db, actor, name, (*role).into()).await?;
            vec![format!("operator `{name}` is now {}", role_name((*role).into()))]
        }
        OperatorsCommand::Token { name } => {
            let issued = access::issue_token(db, actor, name).await?;
            vec![format!(
                "token for `{name}` (shown once): {}",
                issued.secret.expose_secret()
            )]
        }
        OperatorsCommand::Passwd { name, password_env } => {
            let password = env(password_env)
                .filter(|p| !p.is_empty())
                .ok_or_else(|| AccessError::PasswordNotInEnv(password_env.clone()))?;
            access::set_password(db, actor, name, &SecretString::from(password)).await?;
            vec![format!("console password of `{name}` is set")]
        }
    })
}
