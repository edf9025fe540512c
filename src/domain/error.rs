#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("x")]
    X,
}
