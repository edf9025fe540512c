pub struct Email(String);
impl Email {
    pub fn parse(raw: &str) -> Result<Self, super::error::DomainError> {
        let s = raw.trim().to_lowercase();
        if s.contains('@') && s.contains('.') {
            Ok(Self(s))
        } else {
            Err(super::error::DomainError::X)
        }
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
