//! A record reduced to what matching compares: folded, canonical, and cheap to compare often.

use crate::{
    domain::{
        BirthDate, DocumentKey, Email,
        name::{CompanyName, fold},
    },
    reconcile::Field,
};

use super::nicknames;

/// How raw values are folded for matching.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ProfileOptions {
    /// Treat `a.b+tag@gmail.com` as `ab@gmail.com`.
    pub fold_gmail: bool,
}

/// The matching view of one record; every part is optional because sources rarely have all.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Profile {
    pub(super) given: Option<String>,
    pub(super) given_canonical: Option<&'static str>,
    pub(super) family: Option<String>,
    pub(super) name: Option<String>,
    pub(super) email: Option<String>,
    pub(super) document_key: Option<String>,
    pub(super) phone: Option<String>,
    pub(super) date_of_birth: Option<String>,
    pub(super) street_number: Option<String>,
    pub(super) street: Option<String>,
    pub(super) address_2: Option<String>,
    pub(super) city: Option<String>,
    pub(super) postcode: Option<String>,
    pub(super) region: Option<String>,
    pub(super) company: Option<String>,
}

/// Phones compare on their last nine digits, so `+34 612…` and `612…` agree.
const PHONE_DIGITS: usize = 9;

fn some(s: String) -> Option<String> {
    (!s.is_empty()).then_some(s)
}

fn alnum_upper(raw: &str) -> Option<String> {
    some(
        raw.chars()
            .filter(|c| c.is_alphanumeric())
            .flat_map(char::to_uppercase)
            .collect(),
    )
}

fn sorted_tokens(folded: &str) -> String {
    let mut tokens: Vec<&str> = folded.split(' ').filter(|t| !t.is_empty()).collect();
    tokens.sort_unstable();
    tokens.join(" ")
}

impl Profile {
    /// Folds every value `get` returns for the client fields; unusable values become missing.
    pub fn build<'a>(get: impl Fn(Field) -> Option<&'a str>, options: ProfileOptions) -> Self {
        let text = |field: Field| get(field).map(fold).and_then(some);
        let given = text(Field::GivenName);
        let company_key = |raw: &str| {
            CompanyName::parse(raw)
                .ok()
                .map(|c| sorted_tokens(&c.match_key()))
        };
        let family = text(Field::FamilyName);
        // A person known only by given and family names still has a display name to compare
        // with a record that only has one (a ClickUp task named after the client).
        let name = get(Field::Name).and_then(company_key).and_then(some).or_else(|| {
            let parts: Vec<&str> = [given.as_deref(), family.as_deref()]
                .into_iter()
                .flatten()
                .collect();
            some(sorted_tokens(&parts.join(" ")))
        });
        Self {
            given_canonical: given.as_deref().and_then(nicknames::canonical),
            given,
            family,
            name,
            email: get(Field::Email).and_then(|raw| {
                Email::parse(raw)
                    .map(|e| e.canonical_for_matching(options.fold_gmail))
                    .ok()
                    .or_else(|| some(raw.trim().to_lowercase()))
            }),
            document_key: get(Field::DocumentKey)
                .and_then(|raw| DocumentKey::parse(raw).ok())
                .and_then(|(key, _)| alnum_upper(key.as_str())),
            phone: get(Field::Phone).and_then(|raw| {
                let digits: Vec<char> = raw.chars().filter(char::is_ascii_digit).collect();
                let tail = &digits[digits.len().saturating_sub(PHONE_DIGITS)..];
                (tail.len() >= 6).then(|| tail.iter().collect())
            }),
            date_of_birth: get(Field::DateOfBirth).and_then(|raw| match BirthDate::parse(raw) {
                Ok(date) => Some(date.compact()),
                // A corrupted date still carries digits worth comparing.
                Err(_) => some(raw.chars().filter(char::is_ascii_digit).collect()),
            }),
            street_number: get(Field::StreetNumber).and_then(alnum_upper),
            street: text(Field::Street),
            address_2: text(Field::Address2),
            city: text(Field::City),
            postcode: get(Field::Postcode).and_then(alnum_upper),
            region: text(Field::Region),
            company: get(Field::Company).and_then(company_key).and_then(some),
        }
    }

    /// Folded given name.
    pub fn given(&self) -> Option<&str> {
        self.given.as_deref()
    }

    /// Folded family name.
    pub fn family(&self) -> Option<&str> {
        self.family.as_deref()
    }

    /// Whether the record names a person by given or family name.
    pub fn has_person_name(&self) -> bool {
        self.given.is_some() || self.family.is_some()
    }

    /// The profile without its document key and email: what the other fields say about a
    /// pair those exact keys already joined (how `fit` checks a model on the store's own pairs).
    pub fn without_exact_keys(&self) -> Profile {
        Profile {
            document_key: None,
            email: None,
            ..self.clone()
        }
    }

    /// The folded document key and email, the store's exact match keys, when present.
    pub fn exact_keys(&self) -> [Option<&str>; 2] {
        [self.document_key.as_deref(), self.email.as_deref()]
    }

    /// Whether the record has nothing matching could use.
    pub fn is_empty(&self) -> bool {
        *self == Self::default()
    }
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::hostile_text::text;

    fn profile(values: &[(Field, &str)]) -> Profile {
        let map: BTreeMap<Field, &str> = values.iter().copied().collect();
        Profile::build(|f| map.get(&f).copied(), ProfileOptions::default())
    }

    #[test]
    fn names_are_folded_and_companies_lose_their_legal_form_and_token_order() {
        let p = profile(&[
            (Field::GivenName, " José "),
            (Field::FamilyName, "NÚÑEZ-García"),
            (Field::Name, "Iberia Acme, S.L."),
        ]);
        assert_eq!(p.given(), Some("jose"));
        assert_eq!(p.family(), Some("nunez garcia"));
        assert_eq!(p.name.as_deref(), Some("acme iberia"));
    }

    #[test]
    fn phones_compare_on_their_national_tail_and_keys_on_their_characters() {
        let a = profile(&[
            (Field::Phone, "+34 612 345 678"),
            (Field::DocumentKey, "12.345.678-z"),
        ]);
        let b = profile(&[(Field::Phone, "612-345-678")]);
        assert_eq!(a.phone, b.phone);
        assert_eq!(a.document_key.as_deref(), Some("12345678Z"));
    }

    #[test]
    fn dates_in_any_known_form_agree_and_broken_ones_keep_their_digits() {
        let a = profile(&[(Field::DateOfBirth, "1987-04-12")]);
        let b = profile(&[(Field::DateOfBirth, "12/04/1987")]);
        assert_eq!(a.date_of_birth.as_deref(), Some("19870412"));
        assert_eq!(a.date_of_birth, b.date_of_birth);
        let broken = profile(&[(Field::DateOfBirth, "19871332")]);
        assert_eq!(broken.date_of_birth.as_deref(), Some("19871332"));
    }

    #[test]
    fn gmail_folding_only_applies_when_asked() {
        let get = |f| (f == Field::Email).then_some("A.Na+crm@gmail.com");
        let plain = Profile::build(get, ProfileOptions::default());
        let folded = Profile::build(get, ProfileOptions { fold_gmail: true });
        assert_eq!(plain.email.as_deref(), Some("a.na+crm@gmail.com"));
        assert_eq!(folded.email.as_deref(), Some("ana@gmail.com"));
    }

    #[test]
    fn a_record_of_blanks_is_empty() {
        assert!(profile(&[(Field::Email, " "), (Field::GivenName, "-")]).is_empty());
    }

    proptest! {
        #[test]
        fn any_values_build_a_profile_without_panicking(
            values in proptest::collection::vec(text(), Field::ALL.len()),
            fold_gmail in any::<bool>(),
        ) {
            let map: BTreeMap<Field, &str> =
                Field::ALL.iter().copied().zip(values.iter().map(String::as_str)).collect();
            let p = Profile::build(|f| map.get(&f).copied(), ProfileOptions { fold_gmail });
            if let Some(dob) = &p.date_of_birth {
                prop_assert!(dob.bytes().all(|b| b.is_ascii_digit()));
            }
        }
    }
}
