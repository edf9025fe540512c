//! Phone numbers: E.164 (`+<country><number>`) when the number is international or a default
//! country is known, parsed with the `phonenumber` crate (libphonenumber's metadata); digits
//! only when neither is known.

use serde::{Deserialize, Serialize};

use super::error::DomainError;

pub use phonenumber::country::Id as Country;

/// A normalized phone number.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Phone(String);

impl Phone {
    /// International numbers (`+`, `00`) and, with a default country, national ones become
    /// E.164; a national number with no country keeps its digits. 7 to 15 digits.
    pub fn parse(raw: &str, default_country: Option<Country>) -> Result<Self, DomainError> {
        let kept: String = raw.chars().filter(|c| c.is_ascii_digit() || *c == '+').collect();
        if kept.chars().skip(1).any(|c| c == '+') {
            return Err(DomainError::InvalidPhone);
        }
        let digits: String = kept.chars().filter(char::is_ascii_digit).collect();
        let international = match (kept.starts_with('+'), digits.strip_prefix("00")) {
            (true, _) => Some(format!("+{digits}")),
            (false, Some(rest)) => Some(format!("+{rest}")),
            (false, None) => None,
        };
        let parsed = match (&international, default_country) {
            (Some(number), _) => phonenumber::parse(None, number).ok(),
            (None, Some(country)) => phonenumber::parse(Some(country), &digits).ok(),
            (None, None) => None,
        };
        let normalized = match (parsed, international) {
            (Some(number), _) => number.format().mode(phonenumber::Mode::E164).to_string(),
            (None, Some(number)) => number,
            (None, None) => digits,
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
    use crate::hostile_text::text;

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
            Phone::parse("020 7946 0018", Some(Country::GB)).unwrap().as_str(),
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

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(raw in text()) {
            for country in [None, Some(Country::ES), Some(Country::US), Some(Country::NO)] {
                let _ = Phone::parse(&raw, country);
            }
        }
    }
}
