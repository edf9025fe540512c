//! Operators and their tokens: rows in, domain identities out.

use chrono::Utc;
use entity::{
    operator_tokens,
    operators::{self, Role},
};
use sea_orm::{
    ActiveModelTrait, ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait,
    QueryFilter, QueryOrder,
};
use uuid::Uuid;

use super::StoreError;
use crate::domain::OperatorName;

/// Inserts an operator.
pub async fn create(
    db: &impl ConnectionTrait,
    name: &OperatorName,
    role: Role,
    created_by: &str,
) -> Result<operators::Model, StoreError> {
    Ok(operators::ActiveModel {
        id: Set(Uuid::now_v7()),
        name: Set(name.as_str().to_owned()),
        role: Set(role),
        password_hash: Set(None),
        created_by: Set(created_by.to_owned()),
        created_at: Set(Utc::now()),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// Every operator, revoked ones included, by name.
pub async fn list(db: &impl ConnectionTrait) -> Result<Vec<operators::Model>, StoreError> {
    Ok(operators::Entity::find()
        .order_by_asc(operators::Column::Name)
        .all(db)
        .await?)
}

/// One operator by name.
pub async fn by_name(
    db: &impl ConnectionTrait,
    name: &OperatorName,
) -> Result<Option<operators::Model>, StoreError> {
    Ok(operators::Entity::find()
        .filter(operators::Column::Name.eq(name.as_str()))
        .one(db)
        .await?)
}

/// Whether any admin can still act; the bootstrap token works only while none can.
pub async fn active_admins(db: &impl ConnectionTrait) -> Result<u64, StoreError> {
    Ok(operators::Entity::find()
        .filter(operators::Column::Role.eq(Role::Admin))
        .filter(operators::Column::RevokedAt.is_null())
        .count(db)
        .await?)
}

/// Saves a changed operator row (role, password, revocation).
pub async fn save(
    db: &impl ConnectionTrait,
    row: operators::ActiveModel,
) -> Result<operators::Model, StoreError> {
    Ok(row.update(db).await?)
}

/// Stores a new token's hash for an operator.
pub async fn add_token(
    db: &impl ConnectionTrait,
    operator: Uuid,
    hash: &str,
    prefix: &str,
) -> Result<operator_tokens::Model, StoreError> {
    Ok(operator_tokens::ActiveModel {
        id: Set(Uuid::now_v7()),
        operator_id: Set(operator),
        token_hash: Set(hash.to_owned()),
        prefix: Set(prefix.to_owned()),
        created_at: Set(Utc::now()),
        last_used_at: Set(None),
        revoked_at: Set(None),
    }
    .insert(db)
    .await?)
}

/// An operator's tokens, newest first.
pub async fn tokens_of(
    db: &impl ConnectionTrait,
    operator: Uuid,
) -> Result<Vec<operator_tokens::Model>, StoreError> {
    Ok(operator_tokens::Entity::find()
        .filter(operator_tokens::Column::OperatorId.eq(operator))
        .order_by_desc(operator_tokens::Column::Id)
        .all(db)
        .await?)
}

/// Revokes every live token of an operator; returns how many.
pub async fn revoke_tokens(db: &impl ConnectionTrait, operator: Uuid) -> Result<u64, StoreError> {
    let result = operator_tokens::Entity::update_many()
        .col_expr(
            operator_tokens::Column::RevokedAt,
            sea_orm::sea_query::Expr::value(Some(Utc::now())),
        )
        .filter(operator_tokens::Column::OperatorId.eq(operator))
        .filter(operator_tokens::Column::RevokedAt.is_null())
        .exec(db)
        .await?;
    Ok(result.rows_affected)
}

/// The live operator behind a live token, found by the token's hash.
pub async fn by_token_hash(
    db: &impl ConnectionTrait,
    hash: &str,
) -> Result<Option<(operator_tokens::Model, operators::Model)>, StoreError> {
    let found = operator_tokens::Entity::find()
        .filter(operator_tokens::Column::TokenHash.eq(hash))
        .filter(operator_tokens::Column::RevokedAt.is_null())
        .find_also_related(operators::Entity)
        .one(db)
        .await?;
    Ok(match found {
        Some((token, Some(operator))) if operator.revoked_at.is_none() => Some((token, operator)),
        _ => None,
    })
}

/// Notes when a token was last used, at most once a minute, so a busy client does not write
/// on every request.
pub async fn touch_token(
    db: &impl ConnectionTrait,
    token: &operator_tokens::Model,
) -> Result<(), StoreError> {
    let now = Utc::now();
    if token
        .last_used_at
        .is_some_and(|at| now.signed_duration_since(at) < chrono::Duration::minutes(1))
    {
        return Ok(());
    }
    operator_tokens::ActiveModel {
        id: Set(token.id),
        last_used_at: Set(Some(now)),
        ..Default::default()
    }
    .update(db)
    .await?;
    Ok(())
}
