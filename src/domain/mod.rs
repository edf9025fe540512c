//! STUB
pub mod document_key;
pub mod email;
pub mod error;
pub mod ids;
pub mod name;
pub mod phone;
pub mod source;
