//! Phone numbers: digits only, E.164 (`+<country><number>`) when the country is known.

use serde::{Deserialize, Serialize};

use super::error::DomainError;

/// A normalized phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// Keeps digits and a leading `+` (`00` counts as `+`); with a default calling code, a
    /// national number loses one trunk `0` and gains `+<code>`. 7 to 15 digits.
    pub fn parse(raw: &str, default_calling_code: Option<u16>) -> Result<Self, DomainError> {
        let kept: String = raw.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        let plus = kept.starts_with('+');
        if kept.chars().skip(1).any(|c| c == '+') {
            return Err(DomainError::InvalidPhone);
        }
        let international = plus || kept.starts_with("00");
        let mut digits: String = kept.chars().filter(char::is_ascii_digit).collect();
        if !plus && international {
            digits.drain(..2);
        }
        let normalized = match (international, default_calling_code) {
            (true, _) => format!("+{digits}"),
            (false, Some(code)) => {
                let national = digits.strip_prefix('0').unwrap_or(&digits);
                format!("+{code}{national}")
            }
            (false, None) => digits,
        };
        let count = normalized.chars().filter(char::is_ascii_digit).count();
        if (7..=15).contains(&count) {
            Ok(Self(normalized))
        } else {
            Err(DomainError::InvalidPhone)
        }
    }

    /// The normalized number.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl TryFrom<String> for Phone {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw, None)
    }
}

impl From<Phone> for String {
    fn from(phone: Phone) -> Self {
        phone.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;

    #[test]
    fn formatting_is_dropped_and_international_numbers_keep_their_plus() {
        assert_eq!(
            Phone::parse("+34 600-000 001", None).unwrap().as_str(),
            "+34600000001"
        );
        assert_eq!(
            Phone::parse("0034 600 000 001", None).unwrap().as_str(),
            "+34600000001"
        );
    }

    #[test]
    fn a_national_number_becomes_e164_with_a_default_country() {
        assert_eq!(
            Phone::parse("020 7946 0018", Some(44)).unwrap().as_str(),
            "+442079460018"
        );
        assert_eq!(Phone::parse("600 000 001", None).unwrap().as_str(), "600000001");
    }

    #[test]
    fn a_double_zero_prefix_after_punctuation_still_means_international() {
        assert_eq!(
            Phone::parse("(0034) 600 000 001", None).unwrap().as_str(),
            "+34600000001"
        );
    }

    #[test]
    fn too_short_or_too_long_numbers_are_refused() {
        assert_eq!(Phone::parse("12 34", None), Err(DomainError::InvalidPhone));
        assert_eq!(
            Phone::parse("+1234567890123456", None),
            Err(DomainError::InvalidPhone)
        );
    }

    proptest! {
        #[test]
        fn parsing_is_idempotent(raw in "[+0-9 ()-]{0,24}") {
            if let Ok(p) = Phone::parse(&raw, None) {
                prop_assert_eq!(Phone::parse(p.as_str(), None).unwrap(), p);
            }
        }
    }
}
