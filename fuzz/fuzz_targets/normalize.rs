//! Every normalizer and the blocking keys over any UTF-8: never panics, and normalizing what
//! a normalizer produced changes nothing (stored values and match keys stay stable when a
//! value comes back from a source or a record is re-derived).
#![no_main]

use clientsync::{
    domain::{
        BirthDate, DocumentKey, Email, Phone,
        name::{CompanyName, PersonName, fold},
        phone::Country,
    },
    reconcile::{
        Field,
        fuzzy::{
            Profile, ProfileOptions, blocking, nickname_of,
            phonetic::{AsciiName, encode},
        },
        normalize::{Normalized, normalize_in},
    },
};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Ok(raw) = std::str::from_utf8(data) else {
        return;
    };
    for field in Field::ALL {
        for country in [None, Some(Country::ES), Some(Country::US)] {
            let once = normalize_in(field, Some(raw), country);
            if let Normalized::Value(value, _) = &once {
                let twice = normalize_in(field, Some(value), country);
                assert_eq!(twice, once, "{field:?} in {country:?}: {raw:?}");
            }
        }
    }
    domain_types(raw);
    names(raw);
    blocking_keys(raw);
});

fn domain_types(raw: &str) {
    if let Ok(email) = Email::parse(raw) {
        assert_eq!(Email::parse(email.as_str()).as_ref(), Ok(&email));
        for fold_gmail in [false, true] {
            let key = email.canonical_for_matching(fold_gmail);
            let again = Email::parse(&key).map(|e| e.canonical_for_matching(fold_gmail));
            assert_eq!(again.as_ref(), Ok(&key), "{raw:?} matches as {key:?}");
        }
    }
    if let Ok((key, check)) = DocumentKey::parse(raw) {
        assert_eq!(key.spanish_check(), check);
        assert_eq!(DocumentKey::parse(key.as_str()), Ok((key.clone(), check)));
    }
    for country in [None, Some(Country::ES)] {
        if let Ok(phone) = Phone::parse(raw, country) {
            assert_eq!(Phone::parse(phone.as_str(), country).as_ref(), Ok(&phone));
        }
    }
    if let Ok(date) = BirthDate::parse(raw) {
        assert_eq!(date.compact().len(), 8);
        assert_eq!(BirthDate::parse(&date.to_string()), Ok(date));
    }
}

fn names(raw: &str) {
    let folded = fold(raw);
    assert_eq!(fold(&folded), folded, "fold of {raw:?}");
    let _ = nickname_of(&folded);
    let ascii = AsciiName::transliterate(raw);
    assert!(
        ascii
            .as_str()
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b' ')
    );
    assert_eq!(AsciiName::transliterate(ascii.as_str()), ascii);
    let code = encode(&ascii);
    assert!(code.is_ascii(), "code {code:?} of {raw:?}");
    assert_eq!(blocking::phonetic(raw), code);
    if let Ok(company) = CompanyName::parse(raw) {
        let key = company.match_key();
        if let Ok(again) = CompanyName::parse(&key) {
            assert_eq!(again.match_key(), key, "company key of {raw:?}");
        }
    }
    let (given, family) = raw.split_once('|').unwrap_or((raw, ""));
    if let Ok(person) = PersonName::parse(Some(given), Some(family)) {
        let _ = person.match_key();
    }
}

/// The lines of the input are the values of successive fields of one record.
fn blocking_keys(raw: &str) {
    let lines: Vec<&str> = raw.lines().collect();
    let value = |field: Field| {
        let i = Field::ALL.iter().position(|f| *f == field)?;
        lines.get(i).copied().or_else(|| lines.first().copied())
    };
    for fold_gmail in [false, true] {
        let profile = Profile::build(value, ProfileOptions { fold_gmail });
        let keys = blocking::keys(&profile);
        assert_eq!(blocking::keys(&profile), keys);
        assert!(keys.iter().all(|k| k.len() > 2 && k.as_bytes()[1] == b':'));
    }
}
