//! Who may act: operators with roles, their personal tokens and console passwords, and the
//! bootstrap token that may only create the first admin. Every change here is one transaction
//! with its audit row; the API, the console and the CLI all come through these functions.

pub mod passwords;
pub mod sessions;
pub mod tokens;

use chrono::Utc;
use entity::operators::{self, Role};
use sea_orm::{ActiveValue::Set, DatabaseConnection, DbErr, IntoActiveModel, TransactionTrait};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;

use crate::{
    domain::{Actor, DomainError, OperatorName, Via, actor::role_name},
    store::{
        StoreError,
        audit::{self, Entry},
        operators as rows,
    },
};

pub use tokens::Issued;

/// Why an identity or an operator change was refused.
#[derive(Debug, thiserror::Error)]
pub enum AccessError {
    /// No token, an unknown one, or a revoked one.
    #[error("a valid operator token is required")]
    Unauthenticated,
    /// The actor's role does not cover the action.
    #[error("this needs the {} role", role_name(*.0))]
    Forbidden(Role),
    /// The bootstrap token only creates the first admin, and one exists.
    #[error("the bootstrap token only creates the first admin, and an admin exists")]
    BootstrapClosed,
    /// Another operator has the name.
    #[error("an operator named `{0}` exists")]
    NameTaken(String),
    /// No such operator.
    #[error("no operator named `{0}`")]
    NoSuchOperator(String),
    /// The change would leave nobody able to manage operators.
    #[error("this would leave no active admin")]
    LastAdmin,
    /// A password too short to resist guessing.
    #[error("passwords need at least {0} characters")]
    WeakPassword(usize),
    /// The CLI was asked to read a password from a variable that is unset or empty.
    #[error("set the password in the environment variable `{0}`")]
    PasswordNotInEnv(String),
    /// A name or role that cannot be used.
    #[error(transparent)]
    Invalid(#[from] DomainError),
    /// The operating system's random source failed.
    #[error("random source failed: {0}")]
    Random(String),
    /// The store failed.
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl From<DbErr> for AccessError {
    fn from(e: DbErr) -> Self {
        AccessError::Store(StoreError::Db(e))
    }
}

/// Refuses an actor whose role does not cover `needed`.
pub fn require(actor: &Actor, needed: Role) -> Result<(), AccessError> {
    if actor.may(needed) {
        Ok(())
    } else {
        Err(AccessError::Forbidden(needed))
    }
}

/// The operator behind a presented API token, if it and its owner are live.
pub async fn authenticate(
    db: &DatabaseConnection,
    token: &SecretString,
    via: Via,
) -> Result<Actor, AccessError> {
    if !tokens::plausible(token) {
        return Err(AccessError::Unauthenticated);
    }
    let hash = tokens::hash(token.expose_secret());
    let (row, operator) = rows::by_token_hash(db, &hash)
        .await?
        .filter(|(row, _)| tokens::same(&row.token_hash, &hash))
        .ok_or(AccessError::Unauthenticated)?;
    rows::touch_token(db, &row).await?;
    Ok(Actor::operator(operator.id, &operator.name, operator.role, via))
}

/// The operator behind a console name and password.
pub async fn login(
    db: &DatabaseConnection,
    name: &str,
    password: &SecretString,
) -> Result<Actor, AccessError> {
    let name = OperatorName::parse(name).map_err(|_| AccessError::Unauthenticated)?;
    let operator = rows::by_name(db, &name)
        .await?
        .filter(|o| o.revoked_at.is_none())
        .ok_or(AccessError::Unauthenticated)?;
    let stored = operator
        .password_hash
        .as_deref()
        .ok_or(AccessError::Unauthenticated)?;
    if passwords::verify(password, stored) {
        Ok(Actor::operator(
            operator.id,
            &operator.name,
            operator.role,
            Via::Console,
        ))
    } else {
        Err(AccessError::Unauthenticated)
    }
}

/// Whether the bootstrap token may still be used: no active admin exists.
pub async fn bootstrap_open(db: &DatabaseConnection) -> Result<bool, AccessError> {
    Ok(rows::active_admins(db).await? == 0)
}

/// Creates an operator and their first token, which the caller shows once.
pub async fn add(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    role: Role,
) -> Result<(operators::Model, Issued), AccessError> {
    require(actor, Role::Admin)?;
    let name = OperatorName::parse(name)?;
    let txn = db.begin().await?;
    if actor.via() == Via::Bootstrap && (rows::active_admins(&txn).await? > 0 || role != Role::Admin) {
        return Err(AccessError::BootstrapClosed);
    }
    if rows::by_name(&txn, &name).await?.is_some() {
        return Err(AccessError::NameTaken(name.to_string()));
    }
    let operator = rows::create(&txn, &name, role, actor.name()).await?;
    let issued = tokens::issue()?;
    rows::add_token(&txn, operator.id, &issued.hash, &issued.prefix).await?;
    audit::append(
        &txn,
        actor,
        Entry {
            action: "operator.add",
            target_kind: "operator",
            target_id: operator.name.clone(),
            after: Some(json!({ "role": role_name(role), "token_prefix": issued.prefix })),
            ..Entry::default()
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(operator = %operator.name, role = role_name(role), by = actor.name(), "operator added");
    Ok((operator, issued))
}

/// Every operator, for admins.
pub async fn list(db: &DatabaseConnection, actor: &Actor) -> Result<Vec<operators::Model>, AccessError> {
    require(actor, Role::Admin)?;
    Ok(rows::list(db).await?)
}

/// Issues another token for an operator (rotation: revoke the old one afterwards).
pub async fn issue_token(db: &DatabaseConnection, actor: &Actor, name: &str) -> Result<Issued, AccessError> {
    require(actor, Role::Admin)?;
    let txn = db.begin().await?;
    let operator = live(&txn, name).await?;
    let issued = tokens::issue()?;
    rows::add_token(&txn, operator.id, &issued.hash, &issued.prefix).await?;
    audit::append(
        &txn,
        actor,
        Entry {
            action: "operator.token",
            target_kind: "operator",
            target_id: operator.name.clone(),
            after: Some(json!({ "token_prefix": issued.prefix })),
            ..Entry::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(issued)
}

/// Revokes an operator and every token they hold; the row stays so history keeps its name.
pub async fn revoke(db: &DatabaseConnection, actor: &Actor, name: &str) -> Result<(), AccessError> {
    require(actor, Role::Admin)?;
    let txn = db.begin().await?;
    let operator = live(&txn, name).await?;
    if operator.role == Role::Admin && rows::active_admins(&txn).await? <= 1 {
        return Err(AccessError::LastAdmin);
    }
    let tokens = rows::revoke_tokens(&txn, operator.id).await?;
    let sessions = crate::store::sessions::delete_for_operator(&txn, operator.id).await?;
    let name = operator.name.clone();
    let mut row = operator.into_active_model();
    row.revoked_at = Set(Some(Utc::now()));
    rows::save(&txn, row).await?;
    audit::append(
        &txn,
        actor,
        Entry {
            action: "operator.revoke",
            target_kind: "operator",
            target_id: name.clone(),
            after: Some(json!({ "revoked": true, "tokens_revoked": tokens, "sessions_ended": sessions })),
            ..Entry::default()
        },
    )
    .await?;
    txn.commit().await?;
    tracing::info!(operator = %name, by = actor.name(), "operator revoked");
    Ok(())
}

/// Changes an operator's role; the last active admin cannot be demoted.
pub async fn set_role(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    role: Role,
) -> Result<(), AccessError> {
    require(actor, Role::Admin)?;
    let txn = db.begin().await?;
    let operator = live(&txn, name).await?;
    let before = operator.role;
    if before == Role::Admin && role != Role::Admin && rows::active_admins(&txn).await? <= 1 {
        return Err(AccessError::LastAdmin);
    }
    let name = operator.name.clone();
    let mut row = operator.into_active_model();
    row.role = Set(role);
    rows::save(&txn, row).await?;
    audit::append(
        &txn,
        actor,
        Entry {
            action: "operator.set_role",
            target_kind: "operator",
            target_id: name,
            before: Some(json!({ "role": role_name(before) })),
            after: Some(json!({ "role": role_name(role) })),
            ..Entry::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

/// Sets an operator's console password (admins for anyone; anyone for themselves).
pub async fn set_password(
    db: &DatabaseConnection,
    actor: &Actor,
    name: &str,
    password: &SecretString,
) -> Result<(), AccessError> {
    let hash = passwords::hash(password)?;
    let txn = db.begin().await?;
    let operator = live(&txn, name).await?;
    if actor.id() != Some(operator.id) {
        require(actor, Role::Admin)?;
    }
    let name = operator.name.clone();
    let mut row = operator.into_active_model();
    row.password_hash = Set(Some(hash));
    rows::save(&txn, row).await?;
    audit::append(
        &txn,
        actor,
        Entry {
            action: "operator.passwd",
            target_kind: "operator",
            target_id: name,
            after: Some(json!({ "password": "set" })),
            ..Entry::default()
        },
    )
    .await?;
    txn.commit().await?;
    Ok(())
}

async fn live(db: &impl sea_orm::ConnectionTrait, name: &str) -> Result<operators::Model, AccessError> {
    let parsed = OperatorName::parse(name)?;
    rows::by_name(db, &parsed)
        .await?
        .filter(|o| o.revoked_at.is_none())
        .ok_or_else(|| AccessError::NoSuchOperator(parsed.to_string()))
}
