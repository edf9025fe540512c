//! Tax document keys (NIF, NIE, CIF, VAT ids): the strongest match key. Normalized by removing
//! separators; Spanish keys have their check character validated, and an invalid one is kept
//! but flagged, because a typo in the CRM is still the operator's data.

use serde::{Deserialize, Serialize};

use super::error::DomainError;

const NIF_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";
const CIF_CONTROL_LETTERS: &[u8; 10] = b"JABCDEFGHI";

/// A normalized document key.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct DocumentKey(String);

/// What the Spanish check-character rules say about a key.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpanishCheck {
    /// A Spanish NIF, NIE or CIF whose check character is right.
    Valid,
    /// Shaped like a Spanish key, but the check character is wrong.
    Invalid,
    /// Not shaped like a Spanish key; kept as-is.
    NotSpanish,
}

impl SpanishCheck {
    /// Stable name for rows and the API.
    pub fn as_str(self) -> &'static str {
        match self {
            SpanishCheck::Valid => "valid",
            SpanishCheck::Invalid => "invalid",
            SpanishCheck::NotSpanish => "not_spanish",
        }
    }
}

impl DocumentKey {
    /// Uppercases and strips spaces, dots, dashes and slashes (and a leading `ES` on Spanish keys).
    pub fn parse(raw: &str) -> Result<(Self, SpanishCheck), DomainError> {
        let key: String = raw
            .chars()
            .filter(|c| !(c.is_whitespace() || matches!(c, '.' | '-' | '/' | '_')))
            .flat_map(char::to_uppercase)
            .collect();
        if key.is_empty() {
            return Err(DomainError::EmptyDocumentKey);
        }
        let unprefixed = key
            .strip_prefix("ES")
            .filter(|rest| spanish_check(rest) != SpanishCheck::NotSpanish);
        let key = unprefixed.map(str::to_owned).unwrap_or(key);
        let check = spanish_check(&key);
        Ok((Self(key), check))
    }

    /// The normalized key.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The Spanish check of this key.
    pub fn spanish_check(&self) -> SpanishCheck {
        spanish_check(&self.0)
    }
}

fn spanish_check(key: &str) -> SpanishCheck {
    let b = key.as_bytes();
    if b.len() != 9 || !b.iter().all(u8::is_ascii_alphanumeric) {
        return SpanishCheck::NotSpanish;
    }
    let digits = |s: &[u8]| s.iter().all(u8::is_ascii_digit);
    let verdict = |ok: bool| {
        if ok {
            SpanishCheck::Valid
        } else {
            SpanishCheck::Invalid
        }
    };
    let last = b[8];
    if digits(&b[..8]) && last.is_ascii_alphabetic() {
        return verdict(nif_letter(&key[..8]) == Some(last));
    }
    if matches!(b[0], b'X' | b'Y' | b'Z') && digits(&b[1..8]) && last.is_ascii_alphabetic() {
        let prefix = match b[0] {
            b'X' => '0',
            b'Y' => '1',
            _ => '2',
        };
        return verdict(nif_letter(&format!("{prefix}{}", &key[1..8])) == Some(last));
    }
    if b"ABCDEFGHJNPQRSUVW".contains(&b[0]) && digits(&b[1..8]) && last.is_ascii_alphanumeric() {
        return verdict(cif_control_ok(b[0], &b[1..8], last));
    }
    SpanishCheck::NotSpanish
}

fn nif_letter(eight_digits: &str) -> Option<u8> {
    let n: usize = eight_digits.parse().ok()?;
    NIF_LETTERS.get(n % 23).copied()
}

fn cif_control_ok(letter: u8, seven: &[u8], control: u8) -> bool {
    let sum: u32 = seven
        .iter()
        .enumerate()
        .map(|(i, d)| {
            let d = u32::from(d - b'0');
            if i % 2 == 0 {
                let doubled = d * 2;
                doubled / 10 + doubled % 10
            } else {
                d
            }
        })
        .sum();
    let digit = (10 - sum % 10) % 10;
    let as_digit = b'0' + u8::try_from(digit).unwrap_or(0);
    let as_letter = CIF_CONTROL_LETTERS[digit as usize];
    match letter {
        b'P' | b'Q' | b'R' | b'S' | b'W' | b'N' => control == as_letter,
        b'A' | b'B' | b'E' | b'H' => control == as_digit,
        _ => control == as_digit || control == as_letter,
    }
}

impl TryFrom<String> for DocumentKey {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw).map(|(key, _)| key)
    }
}

impl From<DocumentKey> for String {
    fn from(key: DocumentKey) -> Self {
        key.0
    }
}

impl std::fmt::Display for DocumentKey {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile_text::text;

    fn check(raw: &str) -> SpanishCheck {
        DocumentKey::parse(raw).unwrap().1
    }

    #[test]
    fn separators_are_stripped_and_letters_uppercased() {
        assert_eq!(
            DocumentKey::parse(" 12.345.678-z ").unwrap().0.as_str(),
            "12345678Z"
        );
    }

    #[test]
    fn a_nif_with_the_right_letter_is_valid_and_with_a_wrong_one_is_kept_but_flagged() {
        assert_eq!(check("12345678Z"), SpanishCheck::Valid);
        assert_eq!(check("00000000T"), SpanishCheck::Valid);
        let (key, c) = DocumentKey::parse("12345678A").unwrap();
        assert_eq!((key.as_str(), c), ("12345678A", SpanishCheck::Invalid));
    }

    #[test]
    fn nie_with_wrong_control_letter_is_kept_but_flagged_invalid() {
        assert_eq!(check("X1234567L"), SpanishCheck::Valid);
        assert_eq!(check("Y0000000Z"), SpanishCheck::Valid);
        assert_eq!(check("X1234567A"), SpanishCheck::Invalid);
    }

    #[test]
    fn cifs_take_a_digit_or_a_letter_as_their_type_requires() {
        assert_eq!(check("B12345674"), SpanishCheck::Valid);
        assert_eq!(check("B12345675"), SpanishCheck::Invalid);
        assert_eq!(check("P1234567D"), SpanishCheck::Valid);
        assert_eq!(check("P12345674"), SpanishCheck::Invalid, "P requires a letter");
        assert_eq!(check("G12345674"), SpanishCheck::Valid);
        assert_eq!(check("G1234567D"), SpanishCheck::Valid, "G accepts either");
    }

    #[test]
    fn an_es_prefix_is_dropped_from_spanish_keys_only() {
        assert_eq!(
            DocumentKey::parse("ES-B12345674").unwrap().0.as_str(),
            "B12345674"
        );
        let (key, c) = DocumentKey::parse("ESTONIA1").unwrap();
        assert_eq!((key.as_str(), c), ("ESTONIA1", SpanishCheck::NotSpanish));
    }

    #[test]
    fn foreign_keys_are_kept_as_they_are() {
        let (key, c) = DocumentKey::parse("DE 123456789").unwrap();
        assert_eq!((key.as_str(), c), ("DE123456789", SpanishCheck::NotSpanish));
    }

    #[test]
    fn an_empty_key_is_refused() {
        assert_eq!(DocumentKey::parse(" .-. "), Err(DomainError::EmptyDocumentKey));
    }

    #[test]
    fn serde_round_trip_normalizes() {
        let key: DocumentKey = serde_json::from_str("\"b-1234567.4\"").unwrap();
        assert_eq!(serde_json::to_string(&key).unwrap(), "\"B12345674\"");
    }

    proptest! {
        #[test]
        fn inserted_separators_do_not_change_the_key(digits in "[0-9]{8}", seps in proptest::collection::vec(prop_oneof![Just(" "), Just("."), Just("-")], 8)) {
            let plain = DocumentKey::parse(&digits).unwrap().0;
            let mut noisy = String::new();
            for (c, s) in digits.chars().zip(&seps) {
                noisy.push(c);
                noisy.push_str(s);
            }
            prop_assert_eq!(DocumentKey::parse(&noisy).unwrap().0, plain);
        }

        #[test]
        fn parsing_is_idempotent_and_never_panics(raw in ".{0,20}") {
            if let Ok((key, check)) = DocumentKey::parse(&raw) {
                prop_assert_eq!(DocumentKey::parse(key.as_str()).unwrap(), (key, check));
            }
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(raw in text()) {
            if let Ok((key, check)) = DocumentKey::parse(&raw) {
                prop_assert_eq!(key.spanish_check(), check);
                let _ = check.as_str();
            }
        }
    }
}
