//! Dates of birth, in the many ways forms and exports write them.

use chrono::NaiveDate;
use serde::{Deserialize, Serialize};

use super::error::DomainError;

/// A calendar date of birth, shown as `YYYY-MM-DD`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct BirthDate(NaiveDate);

/// Day-first is tried before month-first: this service's users are mostly European.
const FORMATS: &[&str] = &[
    "%Y-%m-%d", "%Y%m%d", "%Y/%m/%d", "%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%m/%d/%Y",
];

impl BirthDate {
    /// Accepts ISO, compact (`19870412`, as exports write it) and day-first forms.
    pub fn parse(raw: &str) -> Result<Self, DomainError> {
        let raw = raw.trim();
        FORMATS
            .iter()
            .find_map(|format| NaiveDate::parse_from_str(raw, format).ok())
            .filter(|date| (1850..=2200).contains(&chrono::Datelike::year(date)))
            .map(Self)
            .ok_or(DomainError::InvalidDate)
    }

    /// `YYYYMMDD`, the form compared digit by digit when matching.
    pub fn compact(&self) -> String {
        self.0.format("%Y%m%d").to_string()
    }
}

impl std::fmt::Display for BirthDate {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0.format("%Y-%m-%d"))
    }
}

impl TryFrom<String> for BirthDate {
    type Error = DomainError;
    fn try_from(raw: String) -> Result<Self, Self::Error> {
        Self::parse(&raw)
    }
}

impl From<BirthDate> for String {
    fn from(date: BirthDate) -> Self {
        date.to_string()
    }
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile_text::text;

    #[test]
    fn iso_compact_and_day_first_dates_are_the_same_date() {
        let iso = BirthDate::parse("1987-04-12").unwrap();
        assert_eq!(BirthDate::parse("19870412").unwrap(), iso);
        assert_eq!(BirthDate::parse("12/04/1987").unwrap(), iso);
        assert_eq!(BirthDate::parse(" 12.04.1987 ").unwrap(), iso);
        assert_eq!(iso.to_string(), "1987-04-12");
        assert_eq!(iso.compact(), "19870412");
    }

    #[test]
    fn impossible_dates_are_refused() {
        assert_eq!(BirthDate::parse("19871332"), Err(DomainError::InvalidDate));
        assert_eq!(BirthDate::parse("yesterday"), Err(DomainError::InvalidDate));
        assert_eq!(BirthDate::parse("01/01/0001"), Err(DomainError::InvalidDate));
    }

    proptest! {
        #[test]
        fn a_shown_date_parses_back_to_itself(days in 0i64..100_000) {
            let date = BirthDate(NaiveDate::from_ymd_opt(1900, 1, 1).unwrap() + chrono::Duration::days(days));
            prop_assert_eq!(BirthDate::parse(&date.to_string()).unwrap(), date);
        }
    }

    proptest! {
        #[test]
        fn any_text_parses_or_is_refused_without_panicking(raw in text()) {
            if let Ok(date) = BirthDate::parse(&raw) {
                prop_assert_eq!(date.compact().len(), 8);
                prop_assert_eq!(BirthDate::parse(&date.to_string()), Ok(date));
            }
        }
    }
}
