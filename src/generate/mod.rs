//! Synthetic clients with known duplicates, to measure the matcher's quality and speed without
//! real personal data. Two lists are drawn from one population: originals on the left, and on
//! the right corrupted copies of some of them (typos, nicknames, swapped or missing names,
//! reformatted phones and ids, moved addresses) plus people only the right list has. The truth
//! file says which left record each right record copies.

mod names;

use std::path::Path;

use fastrand::Rng;

use crate::reconcile::Field;

use names::{ADDRESS_2, FAMILY, GIVEN, MAIL_DOMAINS, STREET_KINDS, STREETS, TOWNS};

/// What to generate.
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Records in each list.
    pub people: usize,
    /// Share of left records that also appear, corrupted, on the right.
    pub overlap: f64,
    /// Share of names (given and family separately) given one or two typing errors.
    pub name_typos: f64,
    /// Share of id values that no longer agree (typo or missing) in a copy.
    pub id_disagreement: f64,
    /// Seed: the same scenario and seed give the same files.
    pub seed: u64,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            people: 5_000,
            overlap: 0.8,
            name_typos: 1.0 / 3.0,
            id_disagreement: 0.10,
            seed: 42,
        }
    }
}

/// One generated record, in the columns an export would have.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Person {
    /// Record id.
    pub id: String,
    /// Given name.
    pub given_name: String,
    /// Family name.
    pub surname: String,
    /// House number.
    pub street_number: String,
    /// Street.
    pub address_1: String,
    /// Flat or floor.
    pub address_2: String,
    /// Town.
    pub suburb: String,
    /// Postal code.
    pub postcode: String,
    /// Region.
    pub state: String,
    /// Date of birth.
    pub date_of_birth: String,
    /// National id.
    pub soc_sec_id: String,
    /// Phone.
    pub phone_number: String,
    /// Email.
    pub email: String,
}

/// CSV header of the generated files.
pub const HEADER: [&str; 13] = [
    "rec_id",
    "given_name",
    "surname",
    "street_number",
    "address_1",
    "address_2",
    "suburb",
    "postcode",
    "state",
    "date_of_birth",
    "soc_sec_id",
    "phone_number",
    "email",
];

impl Person {
    /// The value this record holds for a client field, as the matcher reads it.
    pub fn value(&self, field: Field) -> Option<&str> {
        let raw = match field {
            Field::GivenName => &self.given_name,
            Field::FamilyName => &self.surname,
            Field::StreetNumber => &self.street_number,
            Field::Street => &self.address_1,
            Field::Address2 => &self.address_2,
            Field::City => &self.suburb,
            Field::Postcode => &self.postcode,
            Field::Region => &self.state,
            Field::DateOfBirth => &self.date_of_birth,
            Field::DocumentKey => &self.soc_sec_id,
            Field::Phone => &self.phone_number,
            Field::Email => &self.email,
            Field::Name | Field::Company | Field::ProjectStatus | Field::PaymentStatus => return None,
        };
        (!raw.is_empty()).then_some(raw.as_str())
    }

    fn row(&self) -> [&str; 13] {
        [
            &self.id,
            &self.given_name,
            &self.surname,
            &self.street_number,
            &self.address_1,
            &self.address_2,
            &self.suburb,
            &self.postcode,
            &self.state,
            &self.date_of_birth,
            &self.soc_sec_id,
            &self.phone_number,
            &self.email,
        ]
    }
}

/// The two lists and which pairs are the same person.
#[derive(Debug, Clone, Default)]
pub struct Dataset {
    /// Originals.
    pub left: Vec<Person>,
    /// Corrupted copies and right-only people, shuffled.
    pub right: Vec<Person>,
    /// (left id, right id) of every true pair.
    pub truth: Vec<(String, String)>,
}

/// Draws index `i` of `n` with weight 1/(i+1)^0.9: a few common values, a long tail.
fn zipf(rng: &mut Rng, n: usize) -> usize {
    // Inverse-CDF of a continuous power law, good enough for word frequencies.
    let s = 0.9_f64;
    let max = (n as f64).powf(1.0 - s);
    let x = rng.f64() * max;
    (x.powf(1.0 / (1.0 - s)) as usize).min(n - 1)
}

fn pick<'a>(rng: &mut Rng, words: &[&'a str]) -> &'a str {
    words[zipf(rng, words.len())]
}

fn title(word: &str) -> String {
    word.split(' ')
        .map(|w| {
            let mut c = w.chars();
            c.next()
                .map(|f| f.to_uppercase().chain(c).collect::<String>())
                .unwrap_or_default()
        })
        .collect::<Vec<_>>()
        .join(" ")
}

/// Identifiers already handed out: a tax id and a mailbox belong to one person each, as in
/// life (drawn with repeats, 100,000 people shared thousands of `maria.garcia12@…` addresses
/// and hundreds of 7-digit ids, which no matcher keyed on them could tell apart).
#[derive(Debug, Default)]
struct Issued(std::collections::HashSet<String>);

impl Issued {
    /// Draws with `draw` until it gives something not issued yet; when a space runs out (more
    /// people than 7-digit ids), a suffix keeps the value unique rather than looping forever.
    fn unique(&mut self, rng: &mut Rng, draw: impl Fn(&mut Rng) -> String) -> String {
        for _ in 0..64 {
            let value = draw(rng);
            if self.0.insert(value.clone()) {
                return value;
            }
        }
        let value = format!("{}{}", draw(rng), self.0.len());
        self.0.insert(value.clone());
        value
    }
}

fn original(rng: &mut Rng, n: usize, issued: &mut Issued) -> Person {
    let given = pick(rng, GIVEN);
    let family = pick(rng, FAMILY);
    let (town, prefix, region) = TOWNS[zipf(rng, TOWNS.len())];
    let year = rng.u32(1940..2006);
    let (month, day) = (rng.u32(1..13), rng.u32(1..29));
    Person {
        id: format!("rec-{n}-org"),
        given_name: title(given),
        surname: title(family),
        street_number: rng.u32(1..200).to_string(),
        address_1: format!(
            "{} {}",
            title(pick(rng, STREETS)),
            title(STREET_KINDS[rng.usize(..STREET_KINDS.len())])
        ),
        address_2: if rng.f64() < 0.3 {
            ADDRESS_2[rng.usize(..ADDRESS_2.len())].to_owned()
        } else {
            String::new()
        },
        suburb: title(town),
        postcode: format!("{prefix}{:02}", rng.u32(0..100)),
        state: title(region),
        date_of_birth: format!("{year}{month:02}{day:02}"),
        soc_sec_id: issued.unique(rng, |rng| format!("{:07}", rng.u32(1_000_000..10_000_000))),
        phone_number: format!("6{:08}", rng.u32(0..100_000_000)),
        email: if rng.f64() < 0.6 {
            issued.unique(rng, |rng| {
                // Common names take longer numbers, as mail providers make them.
                format!(
                    "{}.{}{}@{}",
                    given,
                    family,
                    rng.u32(1..10_000),
                    MAIL_DOMAINS[rng.usize(..MAIL_DOMAINS.len())]
                )
            })
        } else {
            String::new()
        },
    }
}

/// One typing error: a neighbouring key, a dropped, doubled or transposed letter.
fn typo(rng: &mut Rng, s: &str) -> String {
    let mut c: Vec<char> = s.chars().collect();
    if c.len() < 2 {
        return s.to_owned();
    }
    let i = rng.usize(..c.len() - 1);
    match rng.u8(..4) {
        0 => c[i] = (b'a' + rng.u8(..26)) as char,
        1 => {
            c.remove(i);
        }
        2 => c.insert(i, c[i]),
        _ => c.swap(i, i + 1),
    }
    c.into_iter().collect()
}

fn maybe(rng: &mut Rng, p: f64) -> bool {
    rng.f64() < p
}

fn corrupt_name(rng: &mut Rng, name: &str, scenario: &Scenario) -> String {
    let mut out = name.to_owned();
    if maybe(rng, scenario.name_typos) {
        out = typo(rng, &out);
        if maybe(rng, 0.25) {
            out = typo(rng, &out);
        }
    }
    if maybe(rng, 0.1) {
        out = out.to_uppercase();
    }
    out
}

fn copy(rng: &mut Rng, o: &Person, n: usize, scenario: &Scenario) -> Person {
    let mut p = o.clone();
    p.id = format!("rec-{n}-dup");
    if let Some(nick) =
        crate::reconcile::fuzzy::nickname_of(&o.given_name.to_lowercase()).filter(|_| maybe(rng, 0.08))
    {
        p.given_name = title(nick);
    }
    p.given_name = corrupt_name(rng, &p.given_name, scenario);
    p.surname = corrupt_name(rng, &p.surname, scenario);
    if maybe(rng, 0.05) {
        std::mem::swap(&mut p.given_name, &mut p.surname);
    }
    if maybe(rng, 0.03) {
        p.given_name.clear();
    }
    if maybe(rng, 0.03) {
        p.surname.clear();
    }
    // The id: a typo or missing in `id_disagreement` of copies, and written with separators.
    if maybe(rng, scenario.id_disagreement) {
        if maybe(rng, 0.7) {
            p.soc_sec_id = typo(rng, &p.soc_sec_id);
        } else {
            p.soc_sec_id.clear();
        }
    }
    if maybe(rng, 0.5) && p.soc_sec_id.len() == 7 {
        p.soc_sec_id = format!("{}-{}", &p.soc_sec_id[..3], &p.soc_sec_id[3..]);
    }
    // Date: typos, day and month swapped, missing; written day-first half the time.
    let roll = rng.f64();
    if roll < 0.08 {
        p.date_of_birth = typo(rng, &p.date_of_birth);
    } else if roll < 0.11 && p.date_of_birth.len() == 8 {
        p.date_of_birth = format!(
            "{}{}{}",
            &p.date_of_birth[..4],
            &p.date_of_birth[6..],
            &p.date_of_birth[4..6]
        );
    } else if roll < 0.14 {
        p.date_of_birth.clear();
    }
    if p.date_of_birth.len() == 8 && maybe(rng, 0.5) {
        let d = &p.date_of_birth;
        p.date_of_birth = format!("{}/{}/{}", &d[6..], &d[4..6], &d[..4]);
    }
    // Phone: always reformatted, sometimes mistyped or missing.
    if maybe(rng, 0.05) {
        p.phone_number = typo(rng, &p.phone_number);
    }
    if maybe(rng, 0.08) {
        p.phone_number.clear();
    } else if p.phone_number.len() == 9 {
        let d = &p.phone_number;
        p.phone_number = match rng.u8(..3) {
            0 => format!("+34 {} {} {}", &d[..3], &d[3..6], &d[6..]),
            1 => format!("{}-{}-{}", &d[..3], &d[3..6], &d[6..]),
            _ => format!("0034{d}"),
        };
    }
    if maybe(rng, 0.3) {
        p.email.clear();
    }
    // Address: moved, or typed differently.
    if maybe(rng, 0.1) {
        let moved = original(rng, n, &mut Issued::default());
        p.street_number = moved.street_number;
        p.address_1 = moved.address_1;
        p.address_2 = moved.address_2;
        p.suburb = moved.suburb;
        p.postcode = moved.postcode;
        p.state = moved.state;
    } else {
        if maybe(rng, 0.1) {
            p.address_1 = typo(rng, &p.address_1);
        }
        if maybe(rng, 0.05) {
            p.postcode = typo(rng, &p.postcode);
        }
        if maybe(rng, 0.05) {
            p.suburb = typo(rng, &p.suburb);
        }
        if maybe(rng, 0.05) {
            p.street_number.clear();
        }
        if maybe(rng, 0.2) {
            p.address_2.clear();
        }
    }
    p
}

/// Generates a dataset; the same scenario always yields the same data.
pub fn generate(scenario: &Scenario) -> Dataset {
    let mut rng = Rng::with_seed(scenario.seed);
    let mut issued = Issued::default();
    let left: Vec<Person> = (0..scenario.people)
        .map(|n| original(&mut rng, n, &mut issued))
        .collect();
    let copies = ((scenario.people as f64) * scenario.overlap.clamp(0.0, 1.0)).round() as usize;
    let mut right = Vec::with_capacity(scenario.people);
    let mut truth = Vec::with_capacity(copies);
    for o in left.iter().take(copies) {
        let n = right.len();
        let c = copy(&mut rng, o, n, scenario);
        truth.push((o.id.clone(), c.id.clone()));
        right.push(c);
    }
    while right.len() < scenario.people {
        let n = right.len();
        let mut stranger = original(&mut rng, scenario.people + n, &mut issued);
        stranger.id = format!("rec-{n}-new");
        right.push(stranger);
    }
    rng.shuffle(&mut right);
    Dataset { left, right, truth }
}

/// One list with duplicates inside it, as a deduplication sees it.
#[derive(Debug, Clone, Default)]
pub struct DedupeSet {
    /// Every record, originals and copies, shuffled.
    pub records: Vec<Person>,
    /// Every pair of records of one person (a person with k records gives k(k−1)/2).
    pub truth: Vec<(String, String)>,
}

/// Generates `scenario.people` people for deduplication: half have one record, the others
/// between 2 and `max_records` (an original and corrupted copies of it), so clusters, not
/// pairs, are what a matcher must find.
pub fn generate_dedupe(scenario: &Scenario, max_records: usize) -> DedupeSet {
    let mut rng = Rng::with_seed(scenario.seed);
    let mut issued = Issued::default();
    let mut records = Vec::new();
    let mut truth = Vec::new();
    for n in 0..scenario.people {
        let o = original(&mut rng, n, &mut issued);
        let k = if max_records < 2 || maybe(&mut rng, 0.5) {
            1
        } else {
            rng.usize(2..=max_records)
        };
        let mut ids = vec![o.id.clone()];
        for j in 1..k {
            let mut c = copy(&mut rng, &o, n, scenario);
            c.id = format!("rec-{n}-dup-{j}");
            ids.push(c.id.clone());
            records.push(c);
        }
        records.push(o);
        for (i, a) in ids.iter().enumerate() {
            for b in &ids[i + 1..] {
                truth.push((a.clone(), b.clone()));
            }
        }
    }
    rng.shuffle(&mut records);
    DedupeSet { records, truth }
}

/// Writes `dedupe.csv` and `dedupe_truth.csv` into `dir`.
pub fn write_dedupe(set: &DedupeSet, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    let mut out = csv::Writer::from_path(dir.join("dedupe.csv"))?;
    out.write_record(HEADER)?;
    for p in &set.records {
        out.write_record(p.row())?;
    }
    out.flush()?;
    let mut out = csv::Writer::from_path(dir.join("dedupe_truth.csv"))?;
    out.write_record(["left_id", "right_id"])?;
    for (l, r) in &set.truth {
        out.write_record([l, r])?;
    }
    out.flush()
}

/// Writes `left.csv`, `right.csv` and `truth.csv` into `dir`.
pub fn write(dataset: &Dataset, dir: &Path) -> std::io::Result<()> {
    std::fs::create_dir_all(dir)?;
    for (name, people) in [("left.csv", &dataset.left), ("right.csv", &dataset.right)] {
        let mut out = csv::Writer::from_path(dir.join(name))?;
        out.write_record(HEADER)?;
        for p in people {
            out.write_record(p.row())?;
        }
        out.flush()?;
    }
    let mut out = csv::Writer::from_path(dir.join("truth.csv"))?;
    out.write_record(["left_id", "right_id"])?;
    for (l, r) in &dataset.truth {
        out.write_record([l, r])?;
    }
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_same_seed_gives_the_same_data_and_truth_names_real_records() {
        let scenario = Scenario {
            people: 200,
            ..Scenario::default()
        };
        let a = generate(&scenario);
        let b = generate(&scenario);
        assert_eq!(a.right, b.right);
        assert_eq!(a.truth.len(), 160);
        for (l, r) in &a.truth {
            assert!(a.left.iter().any(|p| &p.id == l));
            assert!(a.right.iter().any(|p| &p.id == r));
        }
    }

    #[test]
    fn a_dedupe_set_has_people_with_up_to_the_asked_records_and_all_their_pairs() {
        let set = generate_dedupe(
            &Scenario {
                people: 300,
                ..Scenario::default()
            },
            6,
        );
        let mut per_person = std::collections::HashMap::<&str, usize>::new();
        for p in &set.records {
            *per_person
                .entry(p.id.split('-').nth(1).unwrap_or(""))
                .or_default() += 1;
        }
        assert_eq!(per_person.len(), 300);
        assert!(per_person.values().all(|k| (1..=6).contains(k)));
        assert!(per_person.values().any(|k| *k == 6));
        let pairs: usize = per_person.values().map(|k| k * (k - 1) / 2).sum();
        assert_eq!(set.truth.len(), pairs);
    }

    #[test]
    fn copies_are_corrupted_at_about_the_asked_rates() {
        let data = generate(&Scenario {
            people: 3000,
            overlap: 1.0,
            ..Scenario::default()
        });
        let by_id: std::collections::HashMap<&str, &Person> =
            data.left.iter().map(|p| (p.id.as_str(), p)).collect();
        let differing_ids = data
            .truth
            .iter()
            .filter(|(l, r)| {
                let copy = data
                    .right
                    .iter()
                    .find(|p| &p.id == r)
                    .map(|p| p.soc_sec_id.replace('-', ""));
                copy.as_deref() != Some(by_id[l.as_str()].soc_sec_id.as_str())
            })
            .count();
        let share = differing_ids as f64 / data.truth.len() as f64;
        assert!((0.07..0.13).contains(&share), "{share}");
    }
}
