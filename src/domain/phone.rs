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
        // libphonenumber's form is kept only when it reads back as itself: a number too short
        // for its country can gain digits on a second reading (`+12641374` → `+12642641374`,
        // Anguilla's area code), and a stored key must not change when it is normalized again.
        let e164 = parsed
            .map(|number| number.format().mode(phonenumber::Mode::E164).to_string())
            .filter(|e164| reads_back_as_itself(e164));
        let normalized = match (e164, international) {
            (Some(e164), _) => e164,
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

fn reads_back_as_itself(e164: &str) -> bool {
    phonenumber::parse(None, e164)
        .is_ok_and(|again| again.format().mode(phonenumber::Mode::E164).to_string() == e164)
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

    #[test]
    fn a_number_too_short_for_its_country_normalizes_the_same_twice() {
        // Found by the `normalize` fuzz target: "+12641374" read back as "+12642641374".
        let once = Phone::parse("ES \u{15}26-B41374", Some(Country::US)).unwrap();
        assert_eq!(Phone::parse(once.as_str(), Some(Country::US)).unwrap(), once);
        let international = Phone::parse("+1 264 1374", None).unwrap();
        assert_eq!(Phone::parse(international.as_str(), None).unwrap(), international);
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
