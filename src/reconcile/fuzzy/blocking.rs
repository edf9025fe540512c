//! Blocking keys: cheap exact keys that a true pair almost surely shares at least one of, so
//! candidates come from an index lookup instead of comparing against every client. Each key
//! survives a different kind of damage: typos in names (phonetic codes), swapped names
//! (keys built from both orders), a wrong id (names and dates), a moved client (keys that do
//! not involve the address).

use super::{
    phonetic::{AsciiName, encode},
    profile::Profile,
};

/// Phonetic code of a folded word (Double Metaphone, primary code), over its ASCII spelling so
/// that any name, in any script, gets a code instead of crashing the encoder.
pub fn phonetic(word: &str) -> String {
    encode(&AsciiName::transliterate(word))
}

fn initial(s: &str) -> char {
    s.chars().next().unwrap_or('_')
}

/// Every blocking key of a profile, with a short prefix naming its kind.
pub fn keys(p: &Profile) -> Vec<String> {
    let mut keys = Vec::with_capacity(14);
    let mut push = |kind: &str, value: &str| {
        if !value.is_empty() {
            keys.push(format!("{kind}:{value}"));
        }
    };
    if let Some(v) = &p.document_key {
        push("d", v);
    }
    if let Some(v) = &p.email {
        push("e", v);
    }
    if let Some(v) = &p.phone {
        push("p", v);
    }
    if let Some(v) = &p.date_of_birth {
        push("b", v);
    }
    let names: Vec<&str> = [p.given.as_deref(), p.family.as_deref()]
        .into_iter()
        .flatten()
        .collect();
    let codes: Vec<String> = names.iter().map(|n| phonetic(n)).collect();
    match (names.as_slice(), codes.as_slice()) {
        ([a, b], [code_a, code_b]) => {
            let mut sorted = [*a, *b];
            sorted.sort_unstable();
            push("n", &sorted.join(" "));
            // Phonetic code of one name with the other's initial, both ways round: a typo in
            // one name or the two swapped still leave one key intact.
            push("m", &format!("{code_b}:{}", initial(a)));
            push("m", &format!("{code_a}:{}", initial(b)));
        }
        ([a], [code]) => {
            push("n", a);
            push("m", &format!("{code}:_"));
        }
        _ => {}
    }
    if let Some(postcode) = &p.postcode {
        for name in &names {
            push("z", &format!("{postcode}:{}", initial(name)));
        }
        if let Some(number) = &p.street_number {
            push("a", &format!("{postcode}:{number}"));
        }
    }
    if let Some(dob) = p.date_of_birth.as_deref().filter(|d| d.len() == 8) {
        // The year with the phonetic code of a name survives a typo in the day or month.
        for code in &codes {
            push("y", &format!("{}:{code}", &dob[..4]));
        }
    }
    for (kind, name) in [("o", &p.name), ("c", &p.company)] {
        if let Some(name) = name {
            push(kind, name);
            let tokens: Vec<&str> = name.split(' ').collect();
            let code: Vec<String> = tokens.iter().take(2).map(|t| phonetic(t)).collect();
            push(kind, &format!("~{}", code.join(":")));
        }
    }
    keys.sort_unstable();
    keys.dedup();
    keys
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use proptest::prelude::*;

    use super::*;
    use crate::{
        hostile_text::text,
        reconcile::{Field, fuzzy::ProfileOptions},
    };

    fn keys_of(values: &[(Field, &str)]) -> Vec<String> {
        let map: BTreeMap<Field, &str> = values.iter().copied().collect();
        keys(&Profile::build(
            |f| map.get(&f).copied(),
            ProfileOptions::default(),
        ))
    }

    fn share_a_key(a: &[String], b: &[String]) -> bool {
        a.iter().any(|k| b.contains(k))
    }

    #[test]
    fn swapped_names_produce_the_same_name_keys() {
        let a = keys_of(&[(Field::GivenName, "Ana"), (Field::FamilyName, "Romero")]);
        let b = keys_of(&[(Field::GivenName, "Romero"), (Field::FamilyName, "Ana")]);
        assert_eq!(a, b);
    }

    #[test]
    fn a_typo_in_the_family_name_still_shares_a_phonetic_key() {
        let a = keys_of(&[(Field::GivenName, "Laura"), (Field::FamilyName, "Smith")]);
        let b = keys_of(&[(Field::GivenName, "Lara"), (Field::FamilyName, "Smyth")]);
        assert!(share_a_key(&a, &b), "{a:?} vs {b:?}");
    }

    #[test]
    fn exact_keys_are_blocking_keys() {
        let a = keys_of(&[(Field::Email, "Ana@X.com"), (Field::DocumentKey, "12345678-z")]);
        assert!(a.contains(&"e:ana@x.com".to_owned()));
        assert!(a.contains(&"d:12345678Z".to_owned()));
    }

    #[test]
    fn different_people_in_different_places_share_nothing() {
        let a = keys_of(&[
            (Field::GivenName, "Ana"),
            (Field::FamilyName, "Romero"),
            (Field::Postcode, "28001"),
        ]);
        let b = keys_of(&[
            (Field::GivenName, "Pedro"),
            (Field::FamilyName, "Ibarra"),
            (Field::Postcode, "08001"),
        ]);
        assert!(!share_a_key(&a, &b));
    }

    #[test]
    fn nordic_and_polish_names_get_keys_and_share_them_with_their_ascii_spelling() {
        let a = keys_of(&[(Field::GivenName, "Søren"), (Field::FamilyName, "Sæther")]);
        let b = keys_of(&[(Field::GivenName, "Soren"), (Field::FamilyName, "Saether")]);
        assert!(share_a_key(&a, &b), "{a:?} vs {b:?}");
        let c = keys_of(&[(Field::FamilyName, "Skłodowska"), (Field::Name, "Cæsar Sørensen")]);
        assert!(c.iter().any(|k| k.starts_with("m:SKLT")), "{c:?}");
    }

    proptest! {
        #[test]
        fn any_profile_has_keys_without_panicking(values in proptest::collection::vec(text(), Field::ALL.len())) {
            let map: BTreeMap<Field, &str> =
                Field::ALL.iter().copied().zip(values.iter().map(String::as_str)).collect();
            let p = Profile::build(|f| map.get(&f).copied(), ProfileOptions { fold_gmail: true });
            for key in keys(&p) {
                prop_assert!(!key.is_empty());
            }
        }
    }
}
