//! Pairwise comparison of two profiles into discrete agreement levels, one per comparator.

use strsim::jaro_winkler;

use super::profile::Profile;
use crate::reconcile::Field;

/// One comparator per identity field, in `Field::MATCHED` order; each has its own levels and weights.
pub const COMPARATORS: usize = Field::MATCHED.len();

/// Agreement level of one comparator; `MISSING` carries no evidence either way.
pub type Level = u8;
/// One side or both lack the value.
pub const MISSING: Level = 0;
/// Identical after folding.
pub const EXACT: Level = 1;
/// One edit, a nickname, or Jaro-Winkler ≥ 0.94.
pub const CLOSE: Level = 2;
/// Jaro-Winkler ≥ 0.85, or a partial date agreement.
pub const SIMILAR: Level = 3;
/// Jaro-Winkler ≥ 0.70, or a token of a multi-word value agreeing.
pub const WEAK: Level = 4;
/// Nothing in common worth counting.
pub const DIFFERENT: Level = 5;
/// Number of levels, `MISSING` included.
pub const LEVELS: usize = 6;

/// The agreement levels of one pair of profiles, indexed by [`Field::index`].
pub type Pattern = [Level; COMPARATORS];

fn text_level(a: &str, b: &str) -> Level {
    if a == b {
        return EXACT;
    }
    let jw = jaro_winkler(a, b);
    if jw >= 0.94 {
        CLOSE
    } else if jw >= 0.85 {
        SIMILAR
    } else if jw >= 0.70 {
        WEAK
    } else {
        DIFFERENT
    }
}

/// Whether `a` and `b` are at most one edit apart (a substitution, an insertion or deletion, or
/// two neighbours swapped): Damerau–Levenshtein ≤ 1 in one pass and no allocation for ASCII,
/// since it runs on every candidate pair's codes, dates and emails.
pub(super) fn within_one_edit(a: &str, b: &str) -> bool {
    if a.is_ascii() && b.is_ascii() {
        one_edit(a.as_bytes(), b.as_bytes())
    } else {
        let (a, b): (Vec<char>, Vec<char>) = (a.chars().collect(), b.chars().collect());
        one_edit(&a, &b)
    }
}

fn one_edit<T: PartialEq>(a: &[T], b: &[T]) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    if long.len() - short.len() > 1 {
        return false;
    }
    let Some(i) = short.iter().zip(long).position(|(x, y)| x != y) else {
        return true;
    };
    if short.len() == long.len() {
        // One substitution, or the two at `i` swapped.
        short[i + 1..] == long[i + 1..]
            || (i + 1 < short.len()
                && short[i] == long[i + 1]
                && short[i + 1] == long[i]
                && short[i + 2..] == long[i + 2..])
    } else {
        short[i..] == long[i + 1..]
    }
}

/// Codes (ids, postcodes, phones): one typo or transposition is close, anything more differs.
fn code_level(a: &str, b: &str) -> Level {
    if a == b {
        EXACT
    } else if a.len().max(b.len()) >= 3 && within_one_edit(a, b) {
        CLOSE
    } else {
        DIFFERENT
    }
}

fn email_level(a: &str, b: &str) -> Level {
    if a == b {
        return EXACT;
    }
    let local = |s: &str| s.split('@').next().unwrap_or(s).to_owned();
    if local(a) == local(b) || within_one_edit(a, b) {
        CLOSE
    } else if jaro_winkler(a, b) >= 0.9 {
        SIMILAR
    } else {
        DIFFERENT
    }
}

/// Dates as `YYYYMMDD`: a typo or a day/month swap is close, the same year with month or day similar.
fn date_level(a: &str, b: &str) -> Level {
    if a == b {
        return EXACT;
    }
    // Sliced by bytes, so only ASCII digits are read as parts of a date.
    if a.len() == 8 && b.len() == 8 && a.is_ascii() && b.is_ascii() {
        let (ya, ma, da) = (&a[..4], &a[4..6], &a[6..]);
        let (yb, mb, db) = (&b[..4], &b[4..6], &b[6..]);
        if within_one_edit(a, b) || (ya == yb && ma == db && da == mb) {
            return CLOSE;
        }
        if ya == yb && (ma == mb || da == db) || (ma == mb && da == db) {
            return SIMILAR;
        }
        return DIFFERENT;
    }
    code_level(a, b)
}

/// Multi-word names: token order is already sorted away; a shared leading token is weak evidence.
fn name_level(a: &str, b: &str) -> Level {
    match text_level(a, b) {
        DIFFERENT => {
            let tokens_a: Vec<&str> = a.split(' ').collect();
            if b.split(' ').any(|t| t.len() > 2 && tokens_a.contains(&t)) {
                WEAK
            } else {
                DIFFERENT
            }
        }
        level => level,
    }
}

fn pair<T: AsRef<str>>(a: &Option<T>, b: &Option<T>, f: impl Fn(&str, &str) -> Level) -> Level {
    match (a, b) {
        (Some(a), Some(b)) => f(a.as_ref(), b.as_ref()),
        _ => MISSING,
    }
}

fn given_level(a: &Profile, b: &Profile, a_given: &Option<String>, b_given: &Option<String>) -> Level {
    match pair(a_given, b_given, text_level) {
        EXACT => EXACT,
        level if a.given_canonical.is_some() && a.given_canonical == b.given_canonical => level.min(CLOSE),
        level => level,
    }
}

/// Given and family names directly and crossed (a record with the two swapped); the better
/// reading wins. Nicknames of the same name count as close.
fn person_levels(a: &Profile, b: &Profile) -> (Level, Level) {
    let direct = (
        given_level(a, b, &a.given, &b.given),
        pair(&a.family, &b.family, text_level),
    );
    if a.given.is_none() || a.family.is_none() || b.given.is_none() || b.family.is_none() {
        return direct;
    }
    if direct.0 == EXACT && direct.1 == EXACT {
        return direct;
    }
    let crossed = (
        pair(&a.given, &b.family, text_level),
        pair(&a.family, &b.given, text_level),
    );
    // Lower levels are better agreement.
    if crossed.0 + crossed.1 < direct.0 + direct.1 {
        crossed
    } else {
        direct
    }
}

/// Compares two profiles, comparator by comparator.
pub fn compare(a: &Profile, b: &Profile) -> Pattern {
    let (given, family) = person_levels(a, b);
    // Two person names are compared part by part; the whole name only counts when one side
    // has nothing else (it would count the same evidence twice).
    let name = if a.has_person_name() && b.has_person_name() {
        MISSING
    } else {
        pair(&a.name, &b.name, name_level)
    };
    [
        name,
        given,
        family,
        pair(&a.email, &b.email, email_level),
        pair(&a.document_key, &b.document_key, code_level),
        pair(&a.phone, &b.phone, code_level),
        pair(&a.company, &b.company, name_level),
        pair(&a.date_of_birth, &b.date_of_birth, date_level),
        pair(&a.street_number, &b.street_number, code_level),
        pair(&a.street, &b.street, name_level),
        pair(&a.address_2, &b.address_2, name_level),
        pair(&a.city, &b.city, text_level),
        pair(&a.postcode, &b.postcode, code_level),
        pair(&a.region, &b.region, text_level),
    ]
}

/// The value an exact agreement was on, for term-frequency weighting of common values.
pub fn value(profile: &Profile, comparator: Field) -> Option<&str> {
    match comparator {
        Field::GivenName => profile.given.as_deref(),
        Field::FamilyName => profile.family.as_deref(),
        Field::Name => profile.name.as_deref(),
        Field::Email => profile.email.as_deref(),
        Field::DocumentKey => profile.document_key.as_deref(),
        Field::Phone => profile.phone.as_deref(),
        Field::DateOfBirth => profile.date_of_birth.as_deref(),
        Field::StreetNumber => profile.street_number.as_deref(),
        Field::Street => profile.street.as_deref(),
        Field::Address2 => profile.address_2.as_deref(),
        Field::City => profile.city.as_deref(),
        Field::Postcode => profile.postcode.as_deref(),
        Field::Region => profile.region.as_deref(),
        Field::Company => profile.company.as_deref(),
        Field::ProjectStatus | Field::PaymentStatus => None,
    }
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

    fn profile(values: &[(Field, &str)]) -> Profile {
        let map: BTreeMap<Field, &str> = values.iter().copied().collect();
        Profile::build(|f| map.get(&f).copied(), ProfileOptions::default())
    }

    fn level(p: &Pattern, c: Field) -> Level {
        p[c.index()]
    }

    #[test]
    fn eight_bytes_of_non_ascii_text_are_compared_as_text_not_sliced_as_a_date() {
        // Found by the property test below: `L݃h𑈧` is 8 bytes with no char boundary at 6.
        assert_eq!(date_level("L\u{743}h\u{11227}", "19760304"), DIFFERENT);
    }

    #[test]
    fn one_edit_is_exactly_damerau_levenshtein_of_one_or_less() {
        let words = [
            "",
            "a",
            "ab",
            "ba",
            "abc",
            "acb",
            "abd",
            "abcd",
            "abdc",
            "bacd",
            "xabc",
            "12345678Z",
            "12345687Z",
            "1234567Z",
            "ñandú",
            "nandu",
            "ñadnú",
            "ñandúx",
        ];
        for a in words {
            for b in words {
                assert_eq!(
                    within_one_edit(a, b),
                    strsim::damerau_levenshtein(a, b) <= 1,
                    "{a:?} {b:?}"
                );
            }
        }
    }

    #[test]
    fn swapped_given_and_family_names_still_agree() {
        let a = profile(&[(Field::GivenName, "Ana"), (Field::FamilyName, "Romero")]);
        let b = profile(&[(Field::GivenName, "Romero"), (Field::FamilyName, "Ana")]);
        let p = compare(&a, &b);
        assert_eq!(level(&p, Field::GivenName), EXACT);
        assert_eq!(level(&p, Field::FamilyName), EXACT);
    }

    #[test]
    fn a_nickname_is_close_to_its_name_but_not_exact() {
        let a = profile(&[(Field::GivenName, "Bill")]);
        let b = profile(&[(Field::GivenName, "William")]);
        assert_eq!(level(&compare(&a, &b), Field::GivenName), CLOSE);
    }

    #[test]
    fn a_typo_lowers_the_level_and_a_missing_side_is_no_evidence() {
        let a = profile(&[
            (Field::FamilyName, "Fernandez"),
            (Field::DocumentKey, "12345678Z"),
        ]);
        let b = profile(&[
            (Field::FamilyName, "Fernadnez"),
            (Field::DocumentKey, "12345687Z"),
        ]);
        let p = compare(&a, &b);
        assert_eq!(level(&p, Field::FamilyName), CLOSE);
        assert_eq!(level(&p, Field::DocumentKey), CLOSE);
        assert_eq!(level(&p, Field::Email), MISSING);
    }

    #[test]
    fn dates_with_day_and_month_swapped_are_close_and_other_years_differ() {
        let a = profile(&[(Field::DateOfBirth, "1987-04-12")]);
        let swapped = profile(&[(Field::DateOfBirth, "1987-12-04")]);
        let other = profile(&[(Field::DateOfBirth, "1953-07-30")]);
        assert_eq!(level(&compare(&a, &swapped), Field::DateOfBirth), CLOSE);
        assert_eq!(level(&compare(&a, &other), Field::DateOfBirth), DIFFERENT);
    }

    #[test]
    fn a_task_named_after_a_person_compares_with_that_persons_names() {
        let task = profile(&[(Field::Name, "Romero Ana")]);
        let contact = profile(&[(Field::GivenName, "Ana"), (Field::FamilyName, "Romero")]);
        assert_eq!(level(&compare(&task, &contact), Field::Name), EXACT);
        assert_eq!(level(&compare(&contact, &contact), Field::Name), MISSING);
    }

    #[test]
    fn company_names_agree_whatever_their_legal_form_and_word_order() {
        let a = profile(&[(Field::Name, "Acme Iberia S.L.")]);
        let b = profile(&[(Field::Name, "IBERIA ACME")]);
        assert_eq!(level(&compare(&a, &b), Field::Name), EXACT);
    }

    fn any_profile() -> impl Strategy<Value = Profile> {
        proptest::collection::vec(proptest::option::of(text()), Field::ALL.len()).prop_map(|values| {
            let map: BTreeMap<Field, Option<String>> = Field::ALL.iter().copied().zip(values).collect();
            Profile::build(
                |f| map.get(&f).and_then(Option::as_deref),
                ProfileOptions::default(),
            )
        })
    }

    proptest! {
        #[test]
        fn any_two_profiles_compare_without_panicking(a in any_profile(), b in any_profile()) {
            let pattern = compare(&a, &b);
            prop_assert!(pattern.iter().all(|level| usize::from(*level) < LEVELS));
            for field in Field::ALL {
                let _ = value(&a, field);
            }
        }

        #[test]
        fn any_two_strings_get_a_level_from_every_comparator(a in text(), b in text()) {
            for level in [
                text_level(&a, &b),
                code_level(&a, &b),
                email_level(&a, &b),
                date_level(&a, &b),
                name_level(&a, &b),
            ] {
                prop_assert!(usize::from(level) < LEVELS);
            }
        }
    }
}
