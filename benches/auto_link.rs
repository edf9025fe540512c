//! The worker's automatic decisions measured for quality: a generated population with known
//! truth streamed, one record at a time, against a store of clients, decided exactly as the
//! worker decides (exact document key, then exact email, then `reconcile::score_candidates` +
//! `reconcile::decide_fuzzy` over the block index's candidates with the `Matching` defaults).
//! Reports the precision and recall of automatic links and the share sent to an operator, with
//! the built-in model and with one fitted on the same data as `clientsync fit` fits.
//!
//! Run: `cargo bench --bench auto_link` (options after `--`: `--stored N` clients, default
//! 100,000; `--queries N`, default 20,000; `--seed S`, default 42). Results in BENCHMARKS.md.

use std::{collections::HashMap, time::Instant};

use clientsync::{
    domain::ids::ClientId,
    generate::{Scenario, generate},
    reconcile::{
        self, MatchDecision, Matching,
        fuzzy::{self, BlockIndex, LinkOptions, Model, Profile, blocking},
    },
};

struct Store {
    ids: Vec<ClientId>,
    profiles: Vec<Profile>,
    index: BlockIndex,
    by_key: [HashMap<String, usize>; 2],
}

#[derive(Default)]
struct Tally {
    queries: usize,
    with_truth: usize,
    links: usize,
    right_links: usize,
    key_links: usize,
    right_key_links: usize,
    review: usize,
    review_with_truth_among: usize,
}

impl Store {
    fn new(profiles: Vec<Profile>) -> Self {
        let mut by_key = [HashMap::new(), HashMap::new()];
        for (i, p) in profiles.iter().enumerate() {
            for (kind, key) in p.exact_keys().into_iter().enumerate() {
                if let Some(key) = key {
                    by_key[kind].entry(key.to_owned()).or_insert(i);
                }
            }
        }
        Self {
            ids: profiles.iter().map(|_| ClientId::generate()).collect(),
            index: BlockIndex::build(&profiles),
            profiles,
            by_key,
        }
    }

    /// What the worker decides for an unlinked record: keys first, then the fuzzy score.
    fn decide(&self, profile: &Profile, matching: &Matching) -> (MatchDecision, bool) {
        let keyed: Vec<usize> = profile
            .exact_keys()
            .into_iter()
            .enumerate()
            .filter_map(|(kind, key)| self.by_key[kind].get(key?).copied())
            .collect();
        if let Some(first) = keyed.first() {
            return if keyed.iter().all(|k| k == first) {
                (MatchDecision::Link(self.ids[*first]), true)
            } else {
                let clients = keyed.iter().map(|k| self.ids[*k]).collect();
                (MatchDecision::Collision { clients }, true)
            };
        }
        let candidates = self
            .index
            .candidates(&blocking::keys(profile), matching.max_block)
            .into_iter()
            .map(|i| (self.ids[i as usize], &self.profiles[i as usize]));
        let scored = reconcile::score_candidates(profile, candidates, matching);
        (reconcile::decide_fuzzy(scored, matching), false)
    }
}

fn arg(name: &str, default: usize) -> usize {
    let args: Vec<String> = std::env::args().collect();
    args.iter()
        .position(|a| a == name)
        .and_then(|i| args.get(i + 1))
        .and_then(|v| v.parse().ok())
        .unwrap_or(default)
}

fn main() {
    let (stored, queries, seed) = (
        arg("--stored", 100_000),
        arg("--queries", 20_000),
        arg("--seed", 42),
    );
    let data = generate(&Scenario {
        people: stored,
        seed: seed as u64,
        ..Scenario::default()
    });
    let options = Matching::default().profile;
    let build = |p: &clientsync::generate::Person| Profile::build(|f| p.value(f), options);
    let store = Store::new(data.left.iter().map(build).collect());
    let position: HashMap<&str, usize> = data
        .left
        .iter()
        .enumerate()
        .map(|(i, p)| (p.id.as_str(), i))
        .collect();
    let truth: HashMap<&str, usize> = data
        .truth
        .iter()
        .filter_map(|(l, r)| Some((r.as_str(), *position.get(l.as_str())?)))
        .collect();
    let stream: Vec<(Profile, Option<usize>)> = data.right[..queries.min(data.right.len())]
        .iter()
        .map(|p| (build(p), truth.get(p.id.as_str()).copied()))
        .collect();

    let started = Instant::now();
    let all_right: Vec<Profile> = data.right.iter().map(build).collect();
    let fit = fuzzy::link(
        &store.profiles,
        &all_right,
        &LinkOptions {
            max_block: Matching::default().max_block,
            ..LinkOptions::default()
        },
        &|_| {},
    );
    println!(
        "fitted on {stored} × {} in {:.1} s: prior {:.4}, version {}, plausible: {:?}",
        all_right.len(),
        started.elapsed().as_secs_f64(),
        fit.model.lambda(),
        fuzzy::explain::version(&fit.model),
        fuzzy::plausible::check(&fit.model).map_err(|e| e.to_string()),
    );

    for (name, model) in [("built-in", Model::default()), ("fitted", fit.model)] {
        let matching = Matching {
            model,
            ..Matching::default()
        };
        let mut t = Tally::default();
        for (profile, truth) in &stream {
            t.queries += 1;
            t.with_truth += usize::from(truth.is_some());
            let (decision, by_key) = store.decide(profile, &matching);
            match decision {
                MatchDecision::Link(client) => {
                    t.links += 1;
                    let right = truth.is_some_and(|i| store.ids[i] == client);
                    t.key_links += usize::from(by_key);
                    t.right_links += usize::from(right);
                    t.right_key_links += usize::from(by_key && right);
                }
                MatchDecision::Ambiguous { candidates } => {
                    t.review += 1;
                    t.review_with_truth_among += usize::from(
                        truth.is_some_and(|i| candidates.iter().any(|c| c.client_id == store.ids[i])),
                    );
                }
                _ => {}
            }
        }
        let pct = |a: usize, b: usize| 100.0 * a as f64 / b.max(1) as f64;
        println!(
            "{name:<8} model, {} records against {stored} clients: auto-link precision {:.4} ({} of {} \
             links right; by exact key {} of {}, fuzzy {} of {}), recall {:.4} of {} with a true \
             client; review {:.2} % ({} records, the true client among the candidates in {})",
            t.queries,
            t.right_links as f64 / t.links.max(1) as f64,
            t.right_links,
            t.links,
            t.right_key_links,
            t.key_links,
            t.right_links - t.right_key_links,
            t.links - t.key_links,
            t.right_links as f64 / t.with_truth.max(1) as f64,
            t.with_truth,
            pct(t.review, t.queries),
            t.review,
            t.review_with_truth_among,
        );
    }
}
