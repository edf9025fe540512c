//! Seeded populations of HubSpot contacts and ClickUp tasks whose right answer is known by
//! construction: who is in both systems, which fields disagree and which records collide.

use std::collections::HashSet;

use fastrand::Rng;

use super::{SimError, Simulator};
use crate::domain::name::fold;

/// What to populate. The same scenario and seed always give the same data (ids included, on a
/// fresh simulator).
#[derive(Debug, Clone)]
pub struct Scenario {
    /// Distinct people.
    pub clients: usize,
    /// Share of people present in both systems (the rest alternate HubSpot-only, ClickUp-only).
    pub in_both: f64,
    /// Share of in-both people missing one key (email or tax id) on one side; the other key
    /// stays on both sides so they still match.
    pub missing_keys: f64,
    /// Share of in-both people whose ClickUp copy has a typo in the given or family name.
    pub typos: f64,
    /// Share of in-both people whose ClickUp copy has a different phone (HubSpot wins).
    pub conflicts: f64,
    /// Extra ClickUp tasks carrying person A's email and person B's tax id.
    pub collisions: usize,
    /// Seed.
    pub seed: u64,
}

impl Default for Scenario {
    fn default() -> Self {
        Self {
            clients: 50,
            in_both: 0.6,
            missing_keys: 0.1,
            typos: 0.2,
            conflicts: 0.1,
            collisions: 1,
            seed: 42,
        }
    }
}

/// One generated person, as HubSpot holds them (ClickUp copies may differ as the truth says).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Person {
    /// Given name.
    pub given: String,
    /// Family name.
    pub family: String,
    /// Unique email.
    pub email: String,
    /// Unique, valid Spanish DNI.
    pub tax_id: String,
    /// Unique Spanish mobile, `+34 6xx xxx xxx`.
    pub phone: String,
    /// Employer.
    pub company: String,
    /// Town.
    pub city: String,
    /// Postcode.
    pub zip: String,
}

/// The right answer for a populated scenario, derived from how it was built.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct GroundTruth {
    /// Everyone, in construction order.
    pub people: Vec<Person>,
    /// Each person's contact id (by index into `people`), if in HubSpot.
    pub contact_of: Vec<Option<String>>,
    /// Each person's task id (by index into `people`), if in ClickUp.
    pub task_of: Vec<Option<String>>,
    /// Contact ids of people only in HubSpot.
    pub hubspot_only: Vec<String>,
    /// Task ids of people only in ClickUp.
    pub clickup_only: Vec<String>,
    /// (contact id, task id) of people in both.
    pub in_both_pairs: Vec<(String, String)>,
    /// Tasks built to collide (A's email, B's tax id), with A's and B's contact ids.
    pub collision_tasks: Vec<(String, String, String)>,
    /// In-both pairs missing one key on one side.
    pub missing_key_pairs: usize,
    /// In-both pairs with a name typo on the ClickUp side.
    pub typo_pairs: usize,
    /// In-both pairs with a different phone on the ClickUp side.
    pub phone_conflicts: usize,
    /// One client per person; collision tasks create none.
    pub expected_clients: usize,
    /// One field_mismatch per differing (pair, field): each phone conflict and each name typo
    /// (`First name`/`Last name` vs `firstname`/`lastname`). Keys never differ, only go missing.
    pub expected_field_conflicts: usize,
    /// One key_collision per collision task — when its people's HubSpot records are processed
    /// before it (collision tasks are created last; a backfill reading ClickUp first may see
    /// the task create a client that A's and B's contacts then join instead).
    pub expected_key_collisions: usize,
    /// Contacts created.
    pub hubspot_contacts: usize,
    /// Tasks created (collision tasks included).
    pub clickup_tasks: usize,
}

const DOMAINS: [&str; 5] = [
    "gmail.com",
    "hotmail.com",
    "yahoo.es",
    "outlook.com",
    "telefonica.net",
];
const COMPANY_KINDS: [&str; 4] = ["Consulting SL", "Asesores SL", "Servicios SA", "Digital SL"];
const NIF_LETTERS: &[u8; 23] = b"TRWAGMYFPDXBNJZSQVHLCKE";

/// Builds the population and ground truth into a simulator.
pub(crate) fn populate(sim: &Simulator, scenario: &Scenario) -> Result<GroundTruth, SimError> {
    let mut rng = Rng::with_seed(scenario.seed);
    let people = people(&mut rng, scenario);
    let list = sim.clickup_list_id();
    let both = ((scenario.clients as f64) * scenario.in_both.clamp(0.0, 1.0)).round() as usize;
    let mut truth = GroundTruth {
        expected_clients: people.len(),
        ..GroundTruth::default()
    };
    // HubSpot first, so a collision's people exist before its task (see `expected_key_collisions`).
    let mut contacts = Vec::with_capacity(people.len());
    let mut has_keys = Vec::with_capacity(people.len());
    let mut clickup_side = Vec::new();
    for (i, p) in people.iter().enumerate() {
        let in_hubspot = i < both || (i - both).is_multiple_of(2);
        let mut hubspot = contact_props(p);
        let mut copy = task_fields(p);
        if i < both {
            if rng.f64() < scenario.missing_keys {
                truth.missing_key_pairs += 1;
                let key = if rng.bool() {
                    ("email", "Email")
                } else {
                    ("tax_id", "Tax ID")
                };
                if rng.bool() {
                    hubspot.retain(|(k, _)| *k != key.0);
                } else {
                    copy.retain(|(k, _)| *k != key.1);
                }
            }
            if rng.f64() < scenario.typos {
                truth.typo_pairs += 1;
                truth.expected_field_conflicts += 1;
                let field = if rng.bool() { "First name" } else { "Last name" };
                if let Some(slot) = copy.iter_mut().find(|(k, _)| *k == field) {
                    slot.1 = typo(&mut rng, &slot.1);
                }
            }
            if rng.f64() < scenario.conflicts {
                truth.phone_conflicts += 1;
                truth.expected_field_conflicts += 1;
                if let Some(slot) = copy.iter_mut().find(|(k, _)| *k == "Phone") {
                    slot.1 = phone(7, i);
                }
            }
        }
        if in_hubspot {
            let props: Vec<(&str, &str)> = hubspot.iter().map(|(k, v)| (*k, v.as_str())).collect();
            contacts.push(Some(sim.create_contact(&props)));
            let has = |key: &str| hubspot.iter().any(|(k, _)| *k == key);
            has_keys.push(has("email") && has("tax_id"));
        } else {
            contacts.push(None);
            has_keys.push(false);
        }
        if i < both || !in_hubspot {
            clickup_side.push((i, copy));
        }
    }
    let mut tasks = vec![None; people.len()];
    for (i, copy) in clickup_side {
        let name = format!("{} {}", value(&copy, "First name"), value(&copy, "Last name"));
        let fields: Vec<(&str, &str)> = copy.iter().map(|(k, v)| (*k, v.as_str())).collect();
        let task = sim.create_task(&list, &name, &fields)?;
        tasks[i] = Some(task.clone());
        match &contacts[i] {
            Some(contact) => truth.in_both_pairs.push((contact.clone(), task)),
            None => truth.clickup_only.push(task),
        }
    }
    truth.hubspot_only = (both..people.len()).filter_map(|i| contacts[i].clone()).collect();
    // Collisions: A and B are HubSpot people with both keys, preferring HubSpot-only ones.
    let candidates: Vec<usize> = (both..people.len())
        .chain(0..both)
        .filter(|i| has_keys[*i])
        .collect();
    for pair in candidates.chunks_exact(2).take(scenario.collisions) {
        let (a, b) = (&people[pair[0]], &people[pair[1]]);
        let name = format!("{} {}", a.given, a.family);
        let fields = [
            ("Email", a.email.as_str()),
            ("Tax ID", b.tax_id.as_str()),
            ("First name", a.given.as_str()),
            ("Last name", a.family.as_str()),
        ];
        let task = sim.create_task(&list, &name, &fields)?;
        let ids = |i: usize| contacts[i].clone().unwrap_or_default();
        truth.collision_tasks.push((task, ids(pair[0]), ids(pair[1])));
    }
    truth.expected_key_collisions = truth.collision_tasks.len();
    truth.hubspot_contacts = contacts.iter().flatten().count();
    truth.clickup_tasks = truth.in_both_pairs.len() + truth.clickup_only.len() + truth.collision_tasks.len();
    truth.people = people;
    truth.contact_of = contacts;
    truth.task_of = tasks;
    Ok(truth)
}

fn value<'a>(fields: &'a [(&str, String)], key: &str) -> &'a str {
    fields
        .iter()
        .find(|(k, _)| *k == key)
        .map_or("", |(_, v)| v.as_str())
}

fn contact_props(p: &Person) -> Vec<(&'static str, String)> {
    vec![
        ("email", p.email.clone()),
        ("firstname", p.given.clone()),
        ("lastname", p.family.clone()),
        ("phone", p.phone.clone()),
        ("company", p.company.clone()),
        ("city", p.city.clone()),
        ("zip", p.zip.clone()),
        ("tax_id", p.tax_id.clone()),
    ]
}

fn task_fields(p: &Person) -> Vec<(&'static str, String)> {
    vec![
        ("Email", p.email.clone()),
        ("Tax ID", p.tax_id.clone()),
        ("Phone", p.phone.clone()),
        ("First name", p.given.clone()),
        ("Last name", p.family.clone()),
        ("Company", p.company.clone()),
    ]
}

/// Distinct people: names from the synthetic generator (no two alike once folded), keys and
/// phones unique by construction.
fn people(rng: &mut Rng, scenario: &Scenario) -> Vec<Person> {
    let pool = crate::generate::generate(&crate::generate::Scenario {
        people: scenario.clients * 12 + 200,
        overlap: 0.0,
        name_typos: 0.0,
        id_disagreement: 0.0,
        seed: scenario.seed,
    })
    .left;
    let mut seen = HashSet::new();
    let dni_base = rng.u32(10_000_000..20_000_000);
    pool.into_iter()
        .filter(|g| !g.given_name.is_empty() && !g.surname.is_empty())
        .filter(|g| seen.insert(fold(&format!("{} {}", g.given_name, g.surname))))
        .take(scenario.clients)
        .enumerate()
        .map(|(i, g)| {
            let number = dni_base + 13 * i as u32;
            let handle = |s: &str| {
                fold(s)
                    .replace(' ', "")
                    .chars()
                    .filter(char::is_ascii_alphanumeric)
                    .collect::<String>()
            };
            Person {
                email: format!(
                    "{}.{}.{i}@{}",
                    handle(&g.given_name),
                    handle(&g.surname),
                    DOMAINS[rng.usize(..DOMAINS.len())]
                ),
                tax_id: format!("{number}{}", char::from(NIF_LETTERS[(number % 23) as usize])),
                phone: phone(6, i),
                company: format!(
                    "{} {}",
                    g.surname,
                    COMPANY_KINDS[rng.usize(..COMPANY_KINDS.len())]
                ),
                city: g.suburb,
                zip: g.postcode,
                given: g.given_name,
                family: g.surname,
            }
        })
        .collect()
}

/// A unique Spanish number for person `i` starting with `lead` (6 or 7: mobile ranges).
fn phone(lead: u8, i: usize) -> String {
    // 7_919 is coprime with 10^8, so distinct people get distinct numbers.
    let n = (i as u64 * 7_919 + 1_234_567) % 100_000_000;
    let digits = format!("{lead}{n:08}");
    format!("+34 {} {} {}", &digits[..3], &digits[3..6], &digits[6..])
}

/// One typo that changes the folded name (so the service sees a real difference).
fn typo(rng: &mut Rng, name: &str) -> String {
    let chars: Vec<char> = name.chars().collect();
    if chars.len() < 3 {
        return format!("{name}x");
    }
    let start = rng.usize(1..chars.len() - 1);
    for offset in 0..chars.len() {
        let i = 1 + (start + offset) % (chars.len() - 1);
        let mut c = chars.clone();
        c.remove(i);
        let out: String = c.into_iter().collect();
        if fold(&out) != fold(name) {
            return out;
        }
    }
    format!("{name}x")
}
