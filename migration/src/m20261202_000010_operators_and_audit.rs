//! Operators as people: each has a role and personal API tokens (stored only as SHA-256 of a
//! random 256-bit secret) and, for the console, an optional argon2 password hash. The audit log
//! is append-only and records every change an operator or the CLI makes, with before and after
//! values. `match_exclusions` remembers "not a match" verdicts so the engine never links that
//! pair of records again.

use sea_orm_migration::{prelude::*, schema::*};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Operators::Table)
                    .if_not_exists()
                    .col(uuid(Operators::Id).primary_key())
                    .col(string_len(Operators::Name, 64).unique_key())
                    .col(string_len(Operators::Role, 16))
                    .col(string_len_null(Operators::PasswordHash, 200))
                    .col(string_len(Operators::CreatedBy, 80))
                    .col(timestamp_with_time_zone(Operators::CreatedAt))
                    .col(timestamp_with_time_zone_null(Operators::RevokedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OperatorTokens::Table)
                    .if_not_exists()
                    .col(uuid(OperatorTokens::Id).primary_key())
                    .col(uuid(OperatorTokens::OperatorId))
                    // Unique as a column constraint, so a lookup by hash is one index probe.
                    .col(string_len(OperatorTokens::TokenHash, 64).unique_key())
                    .col(string_len(OperatorTokens::Prefix, 16))
                    .col(timestamp_with_time_zone(OperatorTokens::CreatedAt))
                    .col(timestamp_with_time_zone_null(OperatorTokens::LastUsedAt))
                    .col(timestamp_with_time_zone_null(OperatorTokens::RevokedAt))
                    .foreign_key(
                        ForeignKey::create()
                            .from(OperatorTokens::Table, OperatorTokens::OperatorId)
                            .to(Operators::Table, Operators::Id)
                            .on_delete(ForeignKeyAction::Cascade),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(AuditLog::Table)
                    .if_not_exists()
                    .col(uuid(AuditLog::Id).primary_key())
                    .col(timestamp_with_time_zone(AuditLog::At))
                    .col(string_len(AuditLog::Actor, 80))
                    .col(uuid_null(AuditLog::ActorId))
                    .col(string_len(AuditLog::Via, 16))
                    .col(string_len(AuditLog::Action, 40))
                    .col(string_len(AuditLog::TargetKind, 24))
                    .col(string_len(AuditLog::TargetId, 200))
                    .col(json_null(AuditLog::Before))
                    .col(json_null(AuditLog::After))
                    .col(text_null(AuditLog::Reason))
                    .col(uuid_null(AuditLog::Undoes))
                    .to_owned(),
            )
            .await?;
        for (name, cols) in [
            (
                "ix_audit_target",
                vec![AuditLog::TargetKind, AuditLog::TargetId, AuditLog::At],
            ),
            ("ix_audit_actor_at", vec![AuditLog::Actor, AuditLog::At]),
            ("ix_audit_at", vec![AuditLog::At]),
        ] {
            let mut index = Index::create();
            index.name(name).table(AuditLog::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(MatchExclusions::Table)
                    .if_not_exists()
                    .col(uuid(MatchExclusions::Id).primary_key())
                    .col(string_len(MatchExclusions::Source, 16))
                    .col(string_len(MatchExclusions::ExternalId, 200))
                    .col(string_len(MatchExclusions::OtherSource, 16))
                    .col(string_len(MatchExclusions::OtherExternalId, 200))
                    .col(string_len(MatchExclusions::CreatedBy, 80))
                    .col(timestamp_with_time_zone(MatchExclusions::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ux_match_exclusions_pair")
                    .table(MatchExclusions::Table)
                    .col(MatchExclusions::Source)
                    .col(MatchExclusions::ExternalId)
                    .col(MatchExclusions::OtherSource)
                    .col(MatchExclusions::OtherExternalId)
                    .unique()
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        for table in [
            MatchExclusions::Table.into_iden(),
            AuditLog::Table.into_iden(),
            OperatorTokens::Table.into_iden(),
            Operators::Table.into_iden(),
        ] {
            manager.drop_table(Table::drop().table(table).to_owned()).await?;
        }
        Ok(())
    }
}

#[derive(DeriveIden)]
enum Operators {
    Table,
    Id,
    Name,
    Role,
    PasswordHash,
    CreatedBy,
    CreatedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum OperatorTokens {
    Table,
    Id,
    OperatorId,
    TokenHash,
    Prefix,
    CreatedAt,
    LastUsedAt,
    RevokedAt,
}

#[derive(DeriveIden)]
enum AuditLog {
    Table,
    Id,
    At,
    Actor,
    ActorId,
    Via,
    Action,
    TargetKind,
    TargetId,
    Before,
    After,
    Reason,
    Undoes,
}

#[derive(DeriveIden)]
enum MatchExclusions {
    Table,
    Id,
    Source,
    ExternalId,
    OtherSource,
    OtherExternalId,
    CreatedBy,
    CreatedAt,
}
