pub struct Phone(String);
impl Phone {
    pub fn parse(raw: &str, _c: Option<u16>) -> Result<Self, super::error::DomainError> {
        Ok(Self(
            raw.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect(),
        ))
    }
    pub fn as_str(&self) -> &str {
        &self.0
    }
}
