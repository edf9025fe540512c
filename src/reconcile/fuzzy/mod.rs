//! Fuzzy matching: records without a shared exact key matched by a Fellegi–Sunter model over
//! normalized fields, with blocking keys so that no record is compared with every client.

pub mod blocking;
pub mod cluster;
pub mod compare;
pub mod estimate;
pub mod explain;
pub mod index;
pub mod link;
pub mod model;
mod nicknames;
pub mod phonetic;
pub mod plausible;
pub mod profile;

pub use compare::Pattern;
pub use index::{BlockIndex, Frequencies};
pub use link::{LinkOptions, LinkResult, ScoredPair, dedupe, link};
pub use model::Model;
pub use nicknames::nickname_of;
pub use profile::{Profile, ProfileOptions};
