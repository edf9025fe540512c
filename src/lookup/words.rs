//! Names as search finds them: folded (case, accents, punctuation) and spelled in ASCII, so
//! "Søren", "SOREN" and "soren" are one word, and "Straße" is "strasse". Pure: the store keeps
//! these words (and their phonetic codes) per client, a query is cut into the same words.

use crate::{
    domain::name::fold,
    reconcile::fuzzy::{blocking, phonetic::AsciiName},
};

/// The longest word kept; longer ones are cut (the column is this wide).
pub const MAX_LEN: usize = 64;

/// One searchable word: lowercase ASCII letters and digits only, 1–64 long.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct SearchWord(String);

impl SearchWord {
    /// The words of a name, in order, without repeats.
    pub fn words(raw: &str) -> Vec<SearchWord> {
        let mut out: Vec<SearchWord> = Vec::new();
        for folded in fold(raw).split(' ') {
            let ascii = AsciiName::transliterate(folded);
            for part in ascii.as_str().split(' ') {
                let word: String = part
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .map(|c| c.to_ascii_lowercase())
                    .take(MAX_LEN)
                    .collect();
                if !word.is_empty() && !out.iter().any(|w| w.0 == word) {
                    out.push(SearchWord(word));
                }
            }
        }
        out
    }

    /// The word.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Its phonetic code (Double Metaphone primary), as blocking computes it; empty for a word
    /// with no letters a code can be made of (digits).
    pub fn phonetic(&self) -> String {
        blocking::phonetic(&self.0)
    }

    /// The least string above every word that starts with this one, for an index range
    /// `[self, end)`; `None` when no such bound exists in `[a-z0-9]` (all `z`).
    pub fn prefix_end(&self) -> Option<String> {
        let mut chars: Vec<char> = self.0.chars().collect();
        while let Some(last) = chars.pop() {
            let next = match last {
                '9' => Some('a'),
                'z' => None,
                c => char::from_u32(u32::from(c) + 1),
            };
            if let Some(next) = next {
                chars.push(next);
                return Some(chars.into_iter().collect());
            }
        }
        None
    }

    /// Whether `other` starts with this word.
    pub fn is_prefix_of(&self, other: &SearchWord) -> bool {
        other.0.starts_with(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile_text::text;

    fn words(raw: &str) -> Vec<String> {
        SearchWord::words(raw).into_iter().map(|w| w.0).collect()
    }

    #[test]
    fn accents_case_and_letters_without_ascii_form_fold_to_one_spelling() {
        assert_eq!(words("Søren Kierkegaard"), ["soren", "kierkegaard"]);
        assert_eq!(words("ŁUKASZ Żółć"), ["lukasz", "zolc"]);
        assert_eq!(words("Zoë O'Brien-Straße"), ["zoe", "o", "brien", "strasse"]);
        assert_eq!(words("  ana   ANA "), ["ana"]);
        assert!(words("¡¿!").is_empty());
    }

    #[test]
    fn a_prefix_range_ends_after_every_word_that_starts_with_it() {
        let end = |raw: &str| SearchWord::words(raw)[0].prefix_end();
        assert_eq!(end("sor").as_deref(), Some("sos"));
        assert_eq!(end("soz").as_deref(), Some("sp"));
        assert_eq!(end("a9").as_deref(), Some("aa"));
        assert_eq!(end("zz"), None);
    }

    proptest! {
        #[test]
        fn every_word_is_lowercase_ascii_alphanumeric_and_its_prefixes_fall_in_its_range(raw in text()) {
            for word in SearchWord::words(&raw) {
                prop_assert!(!word.0.is_empty() && word.0.len() <= MAX_LEN);
                prop_assert!(word.0.chars().all(|c| c.is_ascii_lowercase() || c.is_ascii_digit()));
                for cut in 1..=word.0.len() {
                    let prefix = SearchWord(word.0[..cut].to_owned());
                    prop_assert!(prefix.0.as_str() <= word.0.as_str());
                    if let Some(end) = prefix.prefix_end() {
                        prop_assert!(word.0.as_str() < end.as_str());
                    }
                }
            }
        }
    }
}
