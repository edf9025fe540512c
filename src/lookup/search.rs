//! Client search: by an exact key (email, document key, phone, a HubSpot or ClickUp id) or by
//! name, folded and matched by prefix of each word; when few clients match by spelling, also by
//! sound (Double Metaphone), all ranked by Jaro-Winkler similarity.
//! Exact-key results come in id order; name results best first. Both page by keyset: the
//! cursor names the last item seen, so a page never repeats or skips a client that did not
//! change in between.

use serde::Serialize;
use utoipa::ToSchema;
use uuid::Uuid;

use super::{
    LookupError,
    rank::{Matched, score},
    words::SearchWord,
};
use crate::{
    domain::{SpanishCheck, document_key::DocumentKey, email::Email, ids::ClientId, phone::Phone},
    reconcile::Matching,
    store::{
        clients,
        search::{self, KeyColumn},
    },
};

/// At most this many clients are scored for one name query; more means it is too vague.
pub const NAME_CAP: u64 = 2000;
/// A name query that fewer clients than this start by spelling also finds sound-alikes.
pub const SOUND_BELOW: u64 = 50;

/// What a search is by.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SearchBy {
    /// An email, the golden one or any linked record's.
    Email,
    /// A document key (tax id), golden or any linked record's.
    Document,
    /// The golden phone, read as E.164 (national numbers in `matching.default_country`).
    Phone,
    /// Names: the client's name, given and family names and company.
    Name,
    /// A HubSpot contact or company id, or a ClickUp task id (`contact:123` narrows the kind).
    ExternalId,
}

impl SearchBy {
    /// The name the API and CLI use.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Email => "email",
            Self::Document => "document",
            Self::Phone => "phone",
            Self::Name => "name",
            Self::ExternalId => "external_id",
        }
    }

    /// Reads `by` as the API and CLI spell it.
    pub fn parse(raw: &str) -> Result<Self, LookupError> {
        Ok(match raw {
            "email" => Self::Email,
            "document" => Self::Document,
            "phone" => Self::Phone,
            "name" => Self::Name,
            "external_id" => Self::ExternalId,
            other => {
                return Err(LookupError::BadQuery(format!(
                    "unknown `by` `{other}` (email, document, phone, name or external_id)"
                )));
            }
        })
    }
}

/// What to search for.
#[derive(Debug, Clone)]
pub struct SearchQuery {
    /// The text, as typed.
    pub q: String,
    /// What it is; `None` guesses (and the answer says what it took).
    pub by: Option<SearchBy>,
    /// The `next_after` of the previous page.
    pub after: Option<String>,
    /// Page size.
    pub limit: u64,
}

/// A client as a search lists it.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct ClientSummary {
    /// Its id.
    pub id: Uuid,
    /// Its name.
    pub name: Option<String>,
    /// Given name.
    pub given_name: Option<String>,
    /// Family name.
    pub family_name: Option<String>,
    /// Company.
    pub company: Option<String>,
    /// Golden email.
    pub email: Option<String>,
    /// Golden document key.
    pub document_key: Option<String>,
    /// Golden phone.
    pub phone: Option<String>,
}

impl ClientSummary {
    fn of(row: &entity::clients::Model) -> Self {
        Self {
            id: row.id,
            name: row.name.clone(),
            given_name: row.given_name.clone(),
            family_name: row.family_name.clone(),
            company: row.company.clone(),
            email: row.email.clone(),
            document_key: row.document_key.clone(),
            phone: row.phone.clone(),
        }
    }

    /// The name to show: the name, else given and family, else the company.
    pub fn display_name(&self) -> String {
        if let Some(name) = &self.name {
            return name.clone();
        }
        let person: Vec<&str> = [self.given_name.as_deref(), self.family_name.as_deref()]
            .into_iter()
            .flatten()
            .collect();
        if person.is_empty() {
            self.company.clone().unwrap_or_default()
        } else {
            person.join(" ")
        }
    }
}

/// One search result.
#[derive(Debug, Clone, Serialize, ToSchema)]
pub struct Hit {
    /// The client.
    pub client: ClientSummary,
    /// How it matched.
    pub matched: Matched,
    /// 1 for an exact match; lower the further a name is from the query (rounded to 0.001).
    pub score: f64,
}

/// One page of results.
#[derive(Debug, Serialize, ToSchema)]
pub struct SearchPage {
    /// What the search was by (the guess, when not given): pass it with `after`.
    pub by: SearchBy,
    /// The hits: by id for keys, best first for names.
    pub items: Vec<Hit>,
    /// Pass as `after` (with `by`) for the next page; null on the last.
    pub next_after: Option<String>,
    /// More clients share these words than a name search scores: some may be missing. Add a word.
    pub incomplete: bool,
}

/// Finds clients.
pub async fn search(
    db: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    query: &SearchQuery,
) -> Result<SearchPage, LookupError> {
    let q = query.q.trim();
    if q.is_empty() || q.chars().count() > 200 {
        return Err(LookupError::BadQuery("`q` must be 1-200 characters".into()));
    }
    if let Some(by) = query.by {
        return by_one(db, matching, q, by, query).await;
    }
    if query.after.is_some() {
        return Err(LookupError::BadQuery(
            "pass `by` (the first page's) with `after`".into(),
        ));
    }
    let guesses = guess(q, matching);
    let mut last = None;
    for by in guesses {
        let page = by_one(db, matching, q, by, query).await;
        match page {
            Ok(page) if !page.items.is_empty() => return Ok(page),
            Ok(page) => last = Some(page),
            // A guess the text does not fit (an id that is no phone) is just not taken.
            Err(LookupError::BadQuery(_)) => {}
            Err(e) => return Err(e),
        }
    }
    Ok(last.unwrap_or(SearchPage {
        by: SearchBy::Name,
        items: Vec::new(),
        next_after: None,
        incomplete: false,
    }))
}

/// What `q` may be, most specific first: an email has an `@`; a valid Spanish tax id is a
/// document; a word with digits may be an external id, then a phone; letters may be a name.
pub fn guess(q: &str, matching: &Matching) -> Vec<SearchBy> {
    if q.contains('@') {
        return vec![SearchBy::Email];
    }
    let mut out = Vec::new();
    if matches!(DocumentKey::parse(q), Ok((_, SpanishCheck::Valid))) {
        out.push(SearchBy::Document);
    }
    let digits = q.chars().filter(char::is_ascii_digit).count();
    if digits > 0 && !q.contains(char::is_whitespace) {
        out.push(SearchBy::ExternalId);
    }
    if digits >= 6 && Phone::parse(q, matching.country).is_ok() {
        out.push(SearchBy::Phone);
    }
    if q.chars().any(char::is_alphabetic) {
        out.push(SearchBy::Name);
    }
    out
}

async fn by_one(
    db: &impl sea_orm::ConnectionTrait,
    matching: &Matching,
    q: &str,
    by: SearchBy,
    query: &SearchQuery,
) -> Result<SearchPage, LookupError> {
    if by == SearchBy::Name {
        return by_name(db, q, query).await;
    }
    let bad = |what: &str| LookupError::BadQuery(format!("`{q}` is not {what}"));
    let after = query
        .after
        .as_deref()
        .map(|a| Uuid::parse_str(a).map_err(|_| LookupError::BadQuery("bad `after` cursor".into())))
        .transpose()?;
    let limit = query.limit;
    let ids = match by {
        SearchBy::Email => {
            let email = Email::parse(q).map_err(|_| bad("an email"))?;
            search::by_key(db, KeyColumn::Email, email.as_str(), after, limit).await?
        }
        SearchBy::Document => {
            let (doc, _) = DocumentKey::parse(q).map_err(|_| bad("a document key"))?;
            search::by_key(db, KeyColumn::DocumentKey, doc.as_str(), after, limit).await?
        }
        SearchBy::Phone => {
            let phone = Phone::parse(q, matching.country).map_err(|_| bad("a phone number"))?;
            search::by_key(db, KeyColumn::Phone, phone.as_str(), after, limit).await?
        }
        SearchBy::ExternalId | SearchBy::Name => {
            search::by_external_id(db, &external_pairs(q), after, limit).await?
        }
    };
    let rows = in_order(db, &ids).await?;
    let next_after = (rows.len() as u64 == query.limit)
        .then(|| rows.last().map(|r| r.id.to_string()))
        .flatten();
    Ok(SearchPage {
        by,
        items: rows
            .iter()
            .map(|row| Hit {
                client: ClientSummary::of(row),
                matched: Matched::Exact,
                score: 1.0,
            })
            .collect(),
        next_after,
        incomplete: false,
    })
}

/// The `(source, external_id)` pairs an id may be: `123` is a HubSpot contact or company or a
/// ClickUp task; `contact:123` (optionally `hubspot:contact:123`) only that.
pub fn external_pairs(q: &str) -> Vec<(&'static str, String)> {
    let q = q.trim();
    let (source, rest) = match q.split_once(':') {
        Some(("hubspot", rest)) => (Some("hubspot"), rest),
        Some(("clickup", rest)) => (Some("clickup"), rest),
        _ => (None, q),
    };
    let all = [
        ("hubspot", "contact"),
        ("hubspot", "company"),
        ("clickup", "task"),
    ];
    match rest.split_once(':') {
        Some((kind, id)) => all
            .iter()
            .filter(|(s, k)| *k == kind && source.is_none_or(|src| src == *s))
            .map(|(s, k)| (*s, format!("{k}:{id}")))
            .collect(),
        None => all
            .iter()
            .filter(|(s, _)| source.is_none_or(|src| src == *s))
            .map(|(s, k)| (*s, format!("{k}:{rest}")))
            .collect(),
    }
}

async fn in_order(
    db: &impl sea_orm::ConnectionTrait,
    ids: &[ClientId],
) -> Result<Vec<entity::clients::Model>, LookupError> {
    let mut rows = clients::load_many(db, ids).await?;
    rows.sort_by_key(|r| ids.iter().position(|id| id.as_uuid() == r.id));
    Ok(rows)
}

async fn by_name(
    db: &impl sea_orm::ConnectionTrait,
    q: &str,
    query: &SearchQuery,
) -> Result<SearchPage, LookupError> {
    let words = SearchWord::words(q);
    if words.is_empty() {
        return Err(LookupError::BadQuery(format!(
            "`{q}` has no letters or digits to search by"
        )));
    }
    let after = query.after.as_deref().map(NameCursor::parse).transpose()?;
    // Sound-alikes widen a search that found little by spelling (a misspelt or half-remembered
    // name); a query many clients start is answered by spelling alone. The choice depends on
    // the query and the data only, so every page of one query ranks the same set.
    let mut ids = search::by_name(db, &words, false, NAME_CAP).await?;
    if (ids.len() as u64) < SOUND_BELOW {
        ids = search::by_name(db, &words, true, NAME_CAP).await?;
    }
    let incomplete = ids.len() as u64 == NAME_CAP;
    let rows = clients::load_many(db, &ids).await?;
    let mut hits: Vec<(NameCursor, Hit)> = rows
        .iter()
        .filter_map(|row| {
            let theirs: Vec<SearchWord> = search::names_of(row)
                .into_iter()
                .flatten()
                .flat_map(SearchWord::words)
                .collect();
            let (matched, score) = score(&words, &theirs)?;
            let key = NameCursor {
                score: (score * 1000.0).round() as i64,
                id: row.id,
            };
            Some((
                key,
                Hit {
                    client: ClientSummary::of(row),
                    matched,
                    score: key.score as f64 / 1000.0,
                },
            ))
        })
        .collect();
    hits.sort_by(|(a, _), (b, _)| b.score.cmp(&a.score).then(a.id.cmp(&b.id)));
    let page: Vec<(NameCursor, Hit)> = hits
        .into_iter()
        .filter(|(key, _)| after.is_none_or(|after| key.comes_after(&after)))
        .take(usize::try_from(query.limit).unwrap_or(usize::MAX))
        .collect();
    let next_after = (page.len() as u64 == query.limit)
        .then(|| page.last().map(|(key, _)| key.to_string()))
        .flatten();
    Ok(SearchPage {
        by: SearchBy::Name,
        items: page.into_iter().map(|(_, hit)| hit).collect(),
        next_after,
        incomplete,
    })
}

/// Where a name page ended: the last hit's score (in thousandths) and id.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct NameCursor {
    score: i64,
    id: Uuid,
}

impl NameCursor {
    fn parse(raw: &str) -> Result<Self, LookupError> {
        let bad = || LookupError::BadQuery("bad `after` cursor".into());
        let (score, id) = raw.split_once('_').ok_or_else(bad)?;
        Ok(Self {
            score: score.parse().map_err(|_| bad())?,
            id: Uuid::parse_str(id).map_err(|_| bad())?,
        })
    }

    /// Best first, then by id: whether `self` is listed after `other`.
    fn comes_after(&self, other: &Self) -> bool {
        self.score < other.score || (self.score == other.score && self.id > other.id)
    }
}

impl std::fmt::Display for NameCursor {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}_{}", self.score, self.id)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_id_may_be_any_kind_unless_the_query_names_one() {
        assert_eq!(
            external_pairs("123"),
            [
                ("hubspot", "contact:123".to_owned()),
                ("hubspot", "company:123".to_owned()),
                ("clickup", "task:123".to_owned())
            ]
        );
        assert_eq!(
            external_pairs("hubspot:company:9"),
            [("hubspot", "company:9".to_owned())]
        );
        assert_eq!(external_pairs("task:abc"), [("clickup", "task:abc".to_owned())]);
    }

    #[test]
    fn a_guess_tries_the_most_specific_reading_first() {
        let m = Matching::default();
        assert_eq!(guess("Ana@x.com", &m), [SearchBy::Email]);
        assert_eq!(guess("12345678Z", &m)[0], SearchBy::Document);
        assert_eq!(guess("+34 611 111 111", &m), [SearchBy::Phone]);
        assert_eq!(guess("Søren", &m), [SearchBy::Name]);
        assert_eq!(guess("86c0ab1", &m), [SearchBy::ExternalId, SearchBy::Name]);
    }

    #[test]
    fn a_name_cursor_reads_back_what_it_wrote_and_orders_best_first() {
        let a = NameCursor {
            score: 950,
            id: Uuid::now_v7(),
        };
        assert_eq!(NameCursor::parse(&a.to_string()).unwrap(), a);
        let worse = NameCursor {
            score: 900,
            id: Uuid::nil(),
        };
        assert!(worse.comes_after(&a) && !a.comes_after(&worse));
        assert!(NameCursor::parse("x_y").is_err());
    }
}
