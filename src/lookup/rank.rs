//! How well a client's names answer a name query: whole words over prefixes over words that
//! only sound or look alike. Pure, so the ranking is tested without a store.

use serde::Serialize;
use strsim::jaro_winkler;
use utoipa::ToSchema;

use super::words::SearchWord;

/// A name hit scoring below this is not shown.
pub const MIN_SCORE: f64 = 0.7;

/// How a hit matched.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Matched {
    /// Every query word is a whole word of the client's names, or an exact key.
    Exact,
    /// Every query word starts a word of the client's names.
    Prefix,
    /// Some query word only sounds like, or is spelled close to, one of the client's.
    Fuzzy,
}

impl Matched {
    /// The name the API and CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Exact => "exact",
            Self::Prefix => "prefix",
            Self::Fuzzy => "fuzzy",
        }
    }
}

/// How well a client's name words answer the query words, or `None` below [`MIN_SCORE`]. Each
/// query word takes its best client word: the same word 1, a word it starts 0.9–1 (more for a
/// longer part), a word that sounds the same at least 0.8, else 0.9 × Jaro-Winkler. The score is
/// their mean; the match is as weak as its weakest word.
pub fn score(query: &[SearchWord], theirs: &[SearchWord]) -> Option<(Matched, f64)> {
    if query.is_empty() {
        return None;
    }
    let mut total = 0.0;
    let mut worst = Matched::Exact;
    for q in query {
        let code = q.phonetic();
        let (matched, best) = theirs
            .iter()
            .map(|w| word_score(q, &code, w))
            .max_by(|a, b| a.1.total_cmp(&b.1).then(b.0.cmp(&a.0)))?;
        total += best;
        worst = worst.max(matched);
    }
    let mean = total / query.len() as f64;
    (mean >= MIN_SCORE).then_some((worst, mean))
}

fn word_score(q: &SearchWord, q_code: &str, theirs: &SearchWord) -> (Matched, f64) {
    if q == theirs {
        return (Matched::Exact, 1.0);
    }
    if q.is_prefix_of(theirs) {
        let part = q.as_str().len() as f64 / theirs.as_str().len() as f64;
        return (Matched::Prefix, 0.9 + 0.1 * part);
    }
    let similar = 0.9 * jaro_winkler(q.as_str(), theirs.as_str());
    let sounds_alike = !q_code.is_empty() && theirs.phonetic() == q_code;
    (
        Matched::Fuzzy,
        if sounds_alike { similar.max(0.8) } else { similar },
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    fn w(raw: &str) -> Vec<SearchWord> {
        SearchWord::words(raw)
    }

    #[test]
    fn whole_words_beat_prefixes_which_beat_sound_alikes() {
        let theirs = w("Søren Hansen");
        let (exact, one) = score(&w("soren hansen"), &theirs).unwrap();
        let (prefix, part) = score(&w("sør han"), &theirs).unwrap();
        let (fuzzy, near) = score(&w("Soeren Hanssen"), &theirs).unwrap();
        assert_eq!(
            (exact, prefix, fuzzy),
            (Matched::Exact, Matched::Prefix, Matched::Fuzzy)
        );
        assert!(one > part && part > near, "{one} {part} {near}");
        assert!(score(&w("Maria Lopez"), &theirs).is_none());
    }

    #[test]
    fn a_name_spelled_with_or_without_its_accents_is_the_same_name() {
        for (query, name) in [
            ("lukasz", "Łukasz Nowak"),
            ("strasse", "Anna Straße"),
            ("Zoe", "Zoë Kravitz"),
        ] {
            assert_eq!(
                score(&w(query), &w(name)).map(|s| s.0),
                Some(Matched::Exact),
                "{query}"
            );
        }
    }
}
