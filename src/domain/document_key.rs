#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SpanishCheck {
    Valid,
    Invalid,
    NotSpanish,
}
impl SpanishCheck {
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Valid => "valid",
            Self::Invalid => "invalid",
            Self::NotSpanish => "not_spanish",
        }
    }
}
pub struct DocumentKey(String);
impl DocumentKey {
    pub fn parse(raw: &str) -> Result<(Self, SpanishCheck), super::error::DomainError> {
        let s: String = raw
            .chars()
            .filter(|c| !" .-".contains(*c))
            .collect::<String>()
            .to_uppercase();
        if s.is_empty() {
            return Err(super::error::DomainError::X);
        }
        Ok((Self(s), SpanishCheck::Valid))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
