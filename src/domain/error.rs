//! Why a raw value is not a valid domain value. Messages never echo the value: it is personal data.

/// The reason a value was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// Not a syntactically valid email address.
    #[error("not a valid email address")]
    InvalidEmail,
    /// Nothing left of the document key after removing separators.
    #[error("document key is empty")]
    EmptyDocumentKey,
    /// Too few or too many digits for a phone number.
    #[error("not a valid phone number")]
    InvalidPhone,
    /// Not a calendar date in a known format.
    #[error("not a valid date")]
    InvalidDate,
    /// A name with no letters.
    #[error("name is empty")]
    EmptyName,
    /// An operator name the service cannot use.
    #[error("operator name: {0}")]
    InvalidOperatorName(String),
    /// A role that does not exist.
    #[error("unknown role `{0}`: viewer, steward or admin")]
    InvalidRole(String),
}
