//! An in-memory blocking index and value frequencies over a population of profiles: what the
//! batch matcher and the store's scoring share.

use std::{
    collections::HashMap,
    hash::{DefaultHasher, Hash, Hasher},
};

use crate::reconcile::Field;

use super::{
    blocking,
    compare::{self, COMPARATORS, EXACT, Pattern},
    model::Model,
    profile::Profile,
};

fn hash(key: &str) -> u64 {
    let mut h = DefaultHasher::new();
    key.hash(&mut h);
    h.finish()
}

/// Blocking key → positions of the profiles holding it.
#[derive(Debug, Default)]
pub struct BlockIndex {
    postings: HashMap<u64, Vec<u32>>,
}

impl BlockIndex {
    /// Indexes every profile by its blocking keys.
    pub fn build(profiles: &[Profile]) -> Self {
        let mut postings: HashMap<u64, Vec<u32>> = HashMap::with_capacity(profiles.len() * 8);
        for (i, p) in profiles.iter().enumerate() {
            for key in blocking::keys(p) {
                postings.entry(hash(&key)).or_default().push(i as u32);
            }
        }
        Self { postings }
    }

    /// Positions sharing at least one key with `keys`. Keys held by more than `max_block`
    /// profiles are too common to discriminate and are skipped, unless every key of the record
    /// is that common: then its smallest block is used if it is under eight times the cap.
    pub fn candidates(&self, keys: &[String], max_block: usize) -> Vec<u32> {
        let postings: Vec<&Vec<u32>> = keys.iter().filter_map(|k| self.postings.get(&hash(k))).collect();
        let mut found: Vec<u32> = postings
            .iter()
            .filter(|posting| posting.len() <= max_block)
            .flat_map(|posting| posting.iter())
            .copied()
            .collect();
        if found.is_empty()
            && let Some(smallest) = postings.iter().min_by_key(|p| p.len())
            && smallest.len() <= max_block * 8
        {
            found.extend(smallest.iter());
        }
        found.sort_unstable();
        found.dedup();
        found
    }
}

/// Comparators whose exact agreement is weighted by how common the agreed value is.
const FREQUENCY_WEIGHTED: [Field; 7] = [
    Field::GivenName,
    Field::FamilyName,
    Field::Name,
    Field::Street,
    Field::City,
    Field::Postcode,
    Field::Company,
];

/// How often each value of the frequency-weighted comparators occurs.
#[derive(Debug, Default, Clone)]
pub struct Frequencies {
    counts: [HashMap<String, u32>; COMPARATORS],
    totals: [u32; COMPARATORS],
}

impl Frequencies {
    /// Counts values over every profile given.
    pub fn count<'a>(profiles: impl IntoIterator<Item = &'a Profile>) -> Self {
        let mut f = Self::default();
        for p in profiles {
            f.add(p);
        }
        f
    }

    /// Adds one profile's values.
    pub fn add(&mut self, p: &Profile) {
        for c in FREQUENCY_WEIGHTED {
            if let Some(v) = compare::value(p, c) {
                let counts = &mut self.counts[c.index()];
                match counts.get_mut(v) {
                    Some(n) => *n += 1,
                    None => {
                        counts.insert(v.to_owned(), 1);
                    }
                }
                self.totals[c.index()] += 1;
            }
        }
    }

    /// Share of records holding `value`, or `None` when the comparator is not weighted or too
    /// few values were seen to say.
    pub fn share(&self, c: Field, value: &str) -> Option<f64> {
        let total = self.totals[c.index()];
        // Unweighted comparators are never counted, so their total is 0 too.
        if total < 100 {
            return None;
        }
        let count = self.counts[c.index()].get(value).copied().unwrap_or(0).max(1);
        Some(f64::from(count) / f64::from(total))
    }
}

/// Compares two profiles and weighs the result, exact agreements weighted by frequency.
pub fn score(model: &Model, frequencies: &Frequencies, a: &Profile, b: &Profile) -> (Pattern, f64) {
    let pattern = compare::compare(a, b);
    let bits = weigh(model, frequencies, a, &pattern);
    (pattern, bits)
}

/// Bits of evidence of a pattern already computed for `a` and another profile.
pub fn weigh(model: &Model, frequencies: &Frequencies, a: &Profile, pattern: &Pattern) -> f64 {
    Field::MATCHED
        .iter()
        .map(|c| {
            let level = pattern[c.index()];
            match (level == EXACT).then(|| compare::value(a, *c)).flatten() {
                Some(value) => match frequencies.share(*c, value) {
                    Some(share) => model.exact_weight_for(*c, share),
                    None => model.weight(*c, level),
                },
                None => model.weight(*c, level),
            }
        })
        .sum()
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::reconcile::{Field, fuzzy::ProfileOptions};

    fn person(given: &str, family: &str, postcode: &str) -> Profile {
        let map = BTreeMap::from([
            (Field::GivenName, given),
            (Field::FamilyName, family),
            (Field::Postcode, postcode),
        ]);
        Profile::build(|f| map.get(&f).copied(), ProfileOptions::default())
    }

    #[test]
    fn candidates_come_from_shared_keys_only() {
        let people = [
            person("Ana", "Romero", "28001"),
            person("Pedro", "Ibarra", "08001"),
            person("Anna", "Romero", "28002"),
        ];
        let index = BlockIndex::build(&people);
        let probe = person("Ana", "Romeró", "28001");
        assert_eq!(index.candidates(&blocking::keys(&probe), 50), vec![0, 2]);
    }

    #[test]
    fn a_block_larger_than_the_cap_is_skipped() {
        let people: Vec<Profile> = (0..10)
            .map(|i| person("Ana", "Romero", &format!("{i:05}")))
            .collect();
        let index = BlockIndex::build(&people);
        let probe = person("Ana", "Romero", "00003");
        assert_eq!(index.candidates(&blocking::keys(&probe), 5), vec![3]);
    }

    #[test]
    fn a_record_whose_keys_are_all_common_still_gets_its_smallest_block() {
        let people: Vec<Profile> = (0..10)
            .map(|i| person("Ana", "Romero", &format!("{}", i % 2)))
            .collect();
        let index = BlockIndex::build(&people);
        let probe = person("Ana", "Romero", "1");
        assert_eq!(index.candidates(&blocking::keys(&probe), 4), vec![1, 3, 5, 7, 9]);
    }

    #[test]
    fn agreeing_on_a_common_name_is_weaker_than_on_a_rare_one() {
        let mut people: Vec<Profile> = (0..200)
            .map(|i| person("Ana", "Garcia", &format!("{i}")))
            .collect();
        people.push(person("Ana", "Zubizarreta", "1"));
        let frequencies = Frequencies::count(&people);
        let model = Model::default();
        let (_, common) = score(&model, &frequencies, &people[0], &person("Ana", "Garcia", "x"));
        let (_, rare) = score(
            &model,
            &frequencies,
            &people[200],
            &person("Ana", "Zubizarreta", "x"),
        );
        assert!(rare > common + 5.0, "rare {rare} common {common}");
    }
}
