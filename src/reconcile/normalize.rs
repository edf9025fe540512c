//! Raw source values to the normalized form the golden record and the match keys use.

use super::field::Field;
use crate::domain::{
    birth_date::BirthDate,
    document_key::{DocumentKey, SpanishCheck},
    email::Email,
    phone::{Country, Phone},
};

/// A raw value normalized for its field.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Normalized {
    /// The source cleared the field.
    Cleared,
    /// The normalized value, with the Spanish check when the field is a document key.
    Value(String, Option<SpanishCheck>),
    /// The value is not usable (e.g. an email without a domain); the change is skipped.
    Rejected(&'static str),
}

/// Normalizes `raw` for `field` with no default phone country.
pub fn normalize(field: Field, raw: Option<&str>) -> Normalized {
    normalize_in(field, raw, None)
}

/// Normalizes `raw` for `field`; never fails, so one bad value never sinks an event. National
/// phone numbers become E.164 in `country`.
pub fn normalize_in(field: Field, raw: Option<&str>, country: Option<Country>) -> Normalized {
    let Some(raw) = raw.map(str::trim).filter(|s| !s.is_empty()) else {
        return Normalized::Cleared;
    };
    match field {
        Field::Email => match Email::parse(raw) {
            Ok(email) => Normalized::Value(email.as_str().to_owned(), None),
            Err(_) => Normalized::Rejected("invalid email"),
        },
        Field::DocumentKey => match DocumentKey::parse(raw) {
            Ok((key, check)) => Normalized::Value(key.as_str().to_owned(), Some(check)),
            Err(_) => Normalized::Rejected("empty document key"),
        },
        Field::Phone => match Phone::parse(raw, country) {
            Ok(phone) => Normalized::Value(phone.as_str().to_owned(), None),
            Err(_) => Normalized::Rejected("invalid phone"),
        },
        Field::DateOfBirth => match BirthDate::parse(raw) {
            Ok(date) => Normalized::Value(date.to_string(), None),
            Err(_) => Normalized::Rejected("invalid date of birth"),
        },
        Field::Postcode => Normalized::Value(raw.split_whitespace().collect::<String>().to_uppercase(), None),
        Field::Name
        | Field::GivenName
        | Field::FamilyName
        | Field::Company
        | Field::StreetNumber
        | Field::Street
        | Field::Address2
        | Field::City
        | Field::Region
        | Field::ProjectStatus
        | Field::PaymentStatus => {
            Normalized::Value(raw.split_whitespace().collect::<Vec<_>>().join(" "), None)
        }
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::{domain::phone::Country, hostile_text::text};

    #[test]
    fn an_empty_value_clears_the_field() {
        assert_eq!(normalize(Field::Email, Some("  ")), Normalized::Cleared);
        assert_eq!(normalize(Field::Name, None), Normalized::Cleared);
    }

    #[test]
    fn emails_are_lowercased_and_bad_ones_rejected() {
        assert_eq!(
            normalize(Field::Email, Some(" Ana@Example.COM ")),
            Normalized::Value("ana@example.com".into(), None)
        );
        assert!(matches!(
            normalize(Field::Email, Some("nope")),
            Normalized::Rejected(_)
        ));
    }

    #[test]
    fn document_keys_lose_separators_and_carry_their_check() {
        let Normalized::Value(key, Some(check)) = normalize(Field::DocumentKey, Some("12.345.678-z")) else {
            panic!("expected a value");
        };
        assert_eq!(key, "12345678Z");
        assert_eq!(check, SpanishCheck::Valid);
    }

    #[test]
    fn names_have_their_whitespace_collapsed() {
        assert_eq!(
            normalize(Field::Name, Some("  Acme   Iberia ")),
            Normalized::Value("Acme Iberia".into(), None)
        );
    }

    proptest! {
        #[test]
        fn any_value_of_any_field_normalizes_without_panicking(raw in text(), spain in any::<bool>()) {
            let country = spain.then_some(Country::ES);
            for field in Field::ALL {
                let _ = normalize(field, Some(&raw));
                let _ = normalize_in(field, Some(&raw), country);
            }
        }
    }
}
