//! Deduplication clusters: connected components over the links above the threshold, built best
//! link first, with a guard against chaining. A person with six records has fifteen true pairs,
//! not three; but plain components would also let A–B and B–C pull in a C that shares nothing
//! with A. So two groups join only when the mean evidence over every pair across them (each
//! compared afresh, blocked or not) still clears the threshold, not when one link does.

use super::{Frequencies, index, link::ScoredPair, model::Model, profile::Profile};

/// Groups larger than this are not grown further: checking a join costs |A|·|B| comparisons,
/// and a real person with this many records in one export is already a data problem.
const MAX_CLUSTER: usize = 64;

fn bits(model: &Model, frequencies: &Frequencies, records: &[Profile], a: u32, b: u32) -> f64 {
    let (a, b) = (&records[a as usize], &records[b as usize]);
    index::score(model, frequencies, a, b).1
}

/// The cluster of each record, named by the position of its first member. `links` are the
/// pairs at or above `threshold`, most probable first.
pub fn cluster(
    records: &[Profile],
    links: &[ScoredPair],
    model: &Model,
    frequencies: &Frequencies,
    threshold: f64,
) -> Vec<u32> {
    let mut cluster_of: Vec<u32> = (0..records.len() as u32).collect();
    let mut members: Vec<Vec<u32>> = (0..records.len() as u32).map(|i| vec![i]).collect();
    for link in links {
        let (a, b) = (cluster_of[link.left as usize], cluster_of[link.right as usize]);
        if a == b {
            continue;
        }
        let (small, large) = if members[a as usize].len() <= members[b as usize].len() {
            (a, b)
        } else {
            (b, a)
        };
        let size = members[small as usize].len() + members[large as usize].len();
        if size > MAX_CLUSTER {
            continue;
        }
        if size > 2 {
            let (xs, ys) = (&members[small as usize], &members[large as usize]);
            let total: f64 = xs
                .iter()
                .flat_map(|x| ys.iter().map(move |y| (*x, *y)))
                .map(|(x, y)| bits(model, frequencies, records, x, y))
                .sum();
            if model.probability(total / (xs.len() * ys.len()) as f64) < threshold {
                continue;
            }
        }
        let moved = std::mem::take(&mut members[small as usize]);
        for m in &moved {
            cluster_of[*m as usize] = large;
        }
        members[large as usize].extend(moved);
    }
    // Name each cluster by its first member, so ids are stable across runs.
    let mut first = vec![u32::MAX; records.len()];
    for (i, c) in cluster_of.iter().enumerate() {
        let f = &mut first[*c as usize];
        *f = (*f).min(i as u32);
    }
    cluster_of.iter().map(|c| first[*c as usize]).collect()
}

/// Every pair of records placed in one cluster, scored, most probable first.
pub fn pairs_within(
    records: &[Profile],
    clusters: &[u32],
    model: &Model,
    frequencies: &Frequencies,
) -> Vec<ScoredPair> {
    let mut groups: std::collections::BTreeMap<u32, Vec<u32>> = std::collections::BTreeMap::new();
    for (i, c) in clusters.iter().enumerate() {
        groups.entry(*c).or_default().push(i as u32);
    }
    let mut pairs: Vec<ScoredPair> = groups
        .values()
        .filter(|g| g.len() > 1)
        .flat_map(|g| {
            g.iter().enumerate().flat_map(move |(k, a)| {
                g[k + 1..].iter().map(move |b| ScoredPair {
                    left: *a,
                    right: *b,
                    probability: model.probability(bits(model, frequencies, records, *a, *b)),
                })
            })
        })
        .collect();
    pairs.sort_by(|a, b| {
        b.probability
            .total_cmp(&a.probability)
            .then(a.left.cmp(&b.left))
            .then(a.right.cmp(&b.right))
    });
    pairs
}

#[cfg(test)]
mod tests {
    use std::collections::BTreeMap;

    use super::*;
    use crate::reconcile::{Field, fuzzy::ProfileOptions};

    fn person(values: &[(Field, &str)]) -> Profile {
        let map: BTreeMap<Field, &str> = values.iter().copied().collect();
        Profile::build(|f| map.get(&f).copied(), ProfileOptions::default())
    }

    fn link(left: u32, right: u32) -> ScoredPair {
        ScoredPair {
            left,
            right,
            probability: 0.99,
        }
    }

    #[test]
    fn records_linked_in_a_chain_of_one_person_form_one_cluster_with_every_pair() {
        let ana = |phone: &str, family: &str| {
            person(&[
                (Field::GivenName, "Ana"),
                (Field::FamilyName, family),
                (Field::DateOfBirth, "1980-02-03"),
                (Field::DocumentKey, "12345678Z"),
                (Field::Phone, phone),
            ])
        };
        let records = [
            ana("600111222", "Romero"),
            ana("600111222", "Romeor"),
            ana("600111223", "Romero"),
        ];
        let (model, frequencies) = (Model::default(), Frequencies::default());
        let clusters = cluster(&records, &[link(0, 1), link(1, 2)], &model, &frequencies, 0.5);
        assert_eq!(clusters, vec![0, 0, 0]);
        assert_eq!(pairs_within(&records, &clusters, &model, &frequencies).len(), 3);
    }

    #[test]
    fn a_record_close_to_one_member_but_not_to_the_cluster_does_not_chain_in() {
        let a = person(&[
            (Field::GivenName, "Kevin"),
            (Field::FamilyName, "Rodriguez"),
            (Field::DateOfBirth, "1976-05-01"),
            (Field::Phone, "600111222"),
            (Field::Postcode, "28001"),
        ]);
        let b = person(&[(Field::GivenName, "Kevin"), (Field::FamilyName, "Rodriguez")]);
        let c = person(&[
            (Field::GivenName, "John"),
            (Field::FamilyName, "Rodriguez"),
            (Field::DateOfBirth, "1946-11-20"),
            (Field::Phone, "699888777"),
            (Field::Postcode, "28001"),
        ]);
        let records = [a, b, c];
        let (model, frequencies) = (Model::default(), Frequencies::default());
        let clusters = cluster(&records, &[link(0, 1), link(1, 2)], &model, &frequencies, 0.5);
        assert_eq!(clusters, vec![0, 0, 2]);
    }
}
