//! Domain values parsed once at the edge, so the rest of the code never sees an invalid one.

pub mod actor;
pub mod birth_date;
pub mod document_key;
pub mod email;
pub mod error;
pub mod event;
pub mod ids;
pub mod name;
pub mod phone;
pub mod source;

pub use actor::{Actor, OperatorName, Via};
pub use birth_date::BirthDate;
pub use document_key::{DocumentKey, SpanishCheck};
pub use email::Email;
pub use error::DomainError;
pub use event::{Envelope, EventId};
pub use ids::ClientId;
pub use phone::Phone;
pub use source::{ObjectKind, Source};
