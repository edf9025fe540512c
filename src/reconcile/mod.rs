//! Reconciliation: pure decisions about which golden client a source record belongs to and
//! what each golden field holds. No I/O here; `store::reconcile` feeds it rows and applies it.

pub mod field;
pub mod fuzzy;
pub mod history;
pub mod matching;
pub mod merge;
pub mod normalize;
pub mod placement;
pub mod project;
pub mod reach;

pub use field::{Field, FieldSet, FieldValue};
pub use matching::{
    MatchDecision, Matching, Scored, any_at_review, decide_fuzzy, keys_disagree, score_candidates,
};
pub use merge::{GoldenField, Merge, MergeInput, Mismatch, merge};
pub use placement::{Holder, Member, Placement, can_share_client, place};
