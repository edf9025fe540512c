//! Email addresses: trimmed, lowercased, syntax-checked; an exact match key.

use serde::{Deserialize, Serialize};

use super::error::DomainError;

/// A normalized, syntactically valid email address.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct Email(String);

impl Email {
    /// Trims, lowercases and checks the syntax.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let s = raw.trim().to_lowercase();
        if looks_like_email(&s) {
            Ok(Self(s))
        } else {
            Err(DomainError::InvalidEmail)
        }
    }

    /// The normalized address.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The form used for matching; with `fold_gmail`, Gmail's ignored dots and `+tags` are removed.
    pub fn canonical_for_matching(&self, fold_gmail: bool) -> String {
        let Some((local, domain)) = self.0.rsplit_once('@') else {
            return self.0.clone();
        };
        if fold_gmail && matches!(domain, "gmail.com" | "googlemail.com") {
            let local = local.split('+').next().unwrap_or(local).replace('.', "");
            // `+tag@gmail.com` folds to nothing; "@gmail.com" would be one match key shared
            // by every such address, so the address stays as written.
            if !local.is_empty() {
                return format!("{local}@gmail.com");
            }
        }
        self.0.clone()
    }
}

fn looks_like_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    let local_ok = !local.is_empty()
        && local.len() <= 64
        && !local.starts_with('.')
        && !local.ends_with('.')
        && !local.contains("..")
        && local
            .chars()
            .all(|c| !c.is_whitespace() && !c.is_control() && !"@<>()[]\\,;:\"".contains(c));
    let labels: Vec<&str> = domain.split('.').collect();
    let domain_ok = s.len() <= 254
        && labels.len() >= 2
        && labels.iter().all(|l| {
            !l.is_empty()
                && l.len() <= 63
                && !l.starts_with('-')
                && !l.ends_with('-')
                && l.chars().all(|c| c.is_alphanumeric() || c == '-')
        })
        && labels
            .last()
            .is_some_and(|tld| tld.len() >= 2 && tld.chars().all(char::is_alphabetic));
    local_ok && domain_ok
}

impl TryFrom<String> for Email {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<Email> for String {
    fn from(email: Email) -> Self {
        email.0
    }
}

impl std::fmt::Display for Email {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile_text::text;

    #[test]
    fn email_is_lowercased_and_trimmed() {
        assert_eq!(
            Email::parse("  Ana.Ruiz@Example.COM ").unwrap().as_str(),
            "ana.ruiz@example.com"
        );
    }

    #[test]
    fn addresses_without_a_proper_domain_or_local_part_are_refused() {
        for bad in [
            "ana",
            "ana@",
            "@x.com",
            "ana@x",
            "ana@x.c",
            "a b@x.com",
            "ana@-x.com",
            "a..b@x.com",
            "a@b@c.com",
        ] {
            assert_eq!(Email::parse(bad), Err(DomainError::InvalidEmail), "{bad}");
        }
    }

    #[test]
    fn gmail_dots_and_tags_fold_only_when_asked() {
        let e = Email::parse("A.Na+crm@googlemail.com").unwrap();
        assert_eq!(e.canonical_for_matching(true), "ana@gmail.com");
        assert_eq!(e.canonical_for_matching(false), "a.na+crm@googlemail.com");
    }

    #[test]
    fn a_gmail_address_whose_local_part_is_only_a_tag_keeps_its_own_match_key() {
        // Found by the `normalize` fuzz target: both folded to "@gmail.com" and matched exactly.
        let tagged = Email::parse("+tag@googlemail.com").unwrap();
        let other = Email::parse("+crm@gmail.com").unwrap();
        assert_eq!(tagged.canonical_for_matching(true), "+tag@googlemail.com");
        assert_ne!(
            tagged.canonical_for_matching(true),
            other.canonical_for_matching(true)
        );
        assert!(Email::parse(&tagged.canonical_for_matching(true)).is_ok());
    }

    #[test]
    fn deserializing_parses_and_refuses_invalid_addresses() {
        let e: Email = serde_json::from_str("\"X@Y.org\"").unwrap();
        assert_eq!(serde_json::to_string(&e).unwrap(), "\"x@y.org\"");
        assert!(serde_json::from_str::<Email>("\"nope\"").is_err());
    }

    proptest! {
        #[test]
        fn parsing_never_panics_and_is_idempotent(raw in ".{0,40}") {
            if let Ok(e) = Email::parse(&raw) {
                prop_assert_eq!(Email::parse(e.as_str()).unwrap(), e);
            }
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(raw in text()) {
            if let Ok(email) = Email::parse(&raw) {
                let _ = email.canonical_for_matching(true);
                let _ = email.canonical_for_matching(false);
            }
        }
    }
}
