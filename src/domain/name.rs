//! Names: display forms keep their case; match keys are folded (case, accents, punctuation,
//! spacing) and, for companies, lose their legal-form suffixes.

use serde::{Deserialize, Serialize};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

use super::error::DomainError;

/// Legal-form suffixes ignored when matching company names, in folded form.
const LEGAL_SUFFIXES: &[&str] = &[
    "s l u", "slu", "s l", "sl", "s a u", "sau", "s a", "sa", "s c", "s coop", "scoop", "ltd", "limited",
    "inc", "llc", "gmbh", "ag", "bv", "b v", "sas", "sarl", "srl", "spa", "s p a", "plc", "corp", "co",
];

/// Case-, accent-, punctuation- and whitespace-folded form of a name, for comparison only.
pub fn fold(raw: &str) -> String {
    let mapped: String = raw
        .nfkd()
        .filter(|c| !is_combining_mark(*c))
        .flat_map(char::to_lowercase)
        .map(|c| if c.is_alphanumeric() { c } else { ' ' })
        .collect();
    mapped.split_whitespace().collect::<Vec<_>>().join(" ")
}

fn display(raw: &str) -> Result<String, DomainError> {
    let shown = raw.split_whitespace().collect::<Vec<_>>().join(" ");
    if shown.chars().any(char::is_alphanumeric) {
        Ok(shown)
    } else {
        Err(DomainError::EmptyName)
    }
}

/// A person's name, either part of which may be unknown.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PersonName {
    given: Option<String>,
    family: Option<String>,
}

impl PersonName {
    /// Trims and collapses both parts; at least one must hold a letter or digit.
    pub fn parse(given: Option<&str>, family: Option<&str>) -> Result<Self, DomainError> {
        let given = given.and_then(|g| display(g).ok());
        let family = family.and_then(|f| display(f).ok());
        if given.is_none() && family.is_none() {
            return Err(DomainError::EmptyName);
        }
        Ok(Self { given, family })
    }

    /// The given name as shown.
    pub fn given(&self) -> Option<&str> {
        self.given.as_deref()
    }

    /// The family name as shown.
    pub fn family(&self) -> Option<&str> {
        self.family.as_deref()
    }

    /// Folded "given family", for comparison.
    pub fn match_key(&self) -> String {
        fold(&format!(
            "{} {}",
            self.given.as_deref().unwrap_or(""),
            self.family.as_deref().unwrap_or("")
        ))
    }
}

/// A company's name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CompanyName(String);

impl CompanyName {
    /// Trims and collapses whitespace; a name needs a letter or digit.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        display(raw).map(Self)
    }

    /// The name as shown.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Folded, without trailing legal-form suffixes ("Acme Iberia, S.L." → "acme iberia").
    pub fn match_key(&self) -> String {
        let mut key = fold(&self.0);
        loop {
            let stripped = LEGAL_SUFFIXES.iter().find_map(|suffix| {
                key.strip_suffix(suffix)
                    .filter(|rest| rest.ends_with(' '))
                    .map(|rest| rest.trim_end().to_owned())
            });
            match stripped {
                Some(rest) if !rest.is_empty() => key = rest,
                _ => return key,
            }
        }
    }
}

impl TryFrom<String> for CompanyName {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<CompanyName> for String {
    fn from(name: CompanyName) -> Self {
        name.0
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile_text::text;

    #[test]
    fn folding_drops_case_accents_punctuation_and_extra_spaces() {
        assert_eq!(fold("  José-María   ÑÚÑEZ "), "jose maria nunez");
    }

    #[test]
    fn legal_suffixes_are_ignored_for_matching_companies() {
        assert_eq!(
            CompanyName::parse("Acme Iberia, S.L.").unwrap().match_key(),
            "acme iberia"
        );
        assert_eq!(
            CompanyName::parse("Acme Iberia SLU").unwrap().match_key(),
            "acme iberia"
        );
        assert_eq!(
            CompanyName::parse("Widgets Holding GmbH & Co")
                .unwrap()
                .match_key(),
            "widgets holding"
        );
        assert_eq!(CompanyName::parse("Costa S.A.").unwrap().match_key(), "costa");
    }

    #[test]
    fn a_suffix_alone_is_still_a_name() {
        assert_eq!(CompanyName::parse("S.A.").unwrap().match_key(), "s a");
    }

    #[test]
    fn a_name_needs_a_letter_or_digit() {
        assert_eq!(CompanyName::parse(" - "), Err(DomainError::EmptyName));
        assert_eq!(PersonName::parse(Some(" "), None), Err(DomainError::EmptyName));
        assert_eq!(PersonName::parse(Some("Ana"), None).unwrap().match_key(), "ana");
    }

    proptest! {
        #[test]
        fn folding_is_idempotent(raw in ".{0,30}") {
            let once = fold(&raw);
            prop_assert_eq!(fold(&once), once);
        }
    }

    proptest! {
        #[test]
        fn any_text_folds_and_parses_or_is_refused_without_panicking(given in text(), family in text()) {
            let _ = fold(&given);
            if let Ok(name) = PersonName::parse(Some(&given), Some(&family)) {
                let _ = name.match_key();
            }
            if let Ok(company) = CompanyName::parse(&given) {
                let _ = company.match_key();
            }
        }
    }
}
