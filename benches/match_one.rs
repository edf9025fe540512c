//! One incoming record matched against 100,000 stored clients: blocking keys, candidate lookup
//! in the block index, Fellegi–Sunter scoring of every candidate and the link decision; the
//! matcher's whole share of the worker's fuzzy path (the store's part is one indexed query).
//!
//! Run: `cargo bench --bench match_one`. It prints the latency distribution over 20,000
//! queries (p50/p95/p99), then criterion's estimate of the mean. Results are in BENCHMARKS.md.

use std::{
    hint::black_box,
    time::{Duration, Instant},
};

use clientsync::{
    domain::ids::ClientId,
    generate::{Person, Scenario, generate},
    reconcile::{
        self, MatchDecision, Matching,
        fuzzy::{BlockIndex, Profile, blocking},
    },
};
use criterion::{Criterion, criterion_group, criterion_main};

const STORED: usize = 100_000;

struct Store {
    ids: Vec<ClientId>,
    profiles: Vec<Profile>,
    index: BlockIndex,
    matching: Matching,
}

impl Store {
    fn new(people: &[Person]) -> Self {
        let matching = Matching::default();
        let profiles: Vec<Profile> = people
            .iter()
            .map(|p| Profile::build(|f| p.value(f), matching.profile))
            .collect();
        Self {
            ids: profiles.iter().map(|_| ClientId::generate()).collect(),
            index: BlockIndex::build(&profiles),
            profiles,
            matching,
        }
    }

    /// What the worker does for an unlinked record, with the block index standing in for the
    /// `match_keys` table.
    fn match_one(&self, record: &Person) -> MatchDecision {
        let profile = Profile::build(|f| record.value(f), self.matching.profile);
        let keys = blocking::keys(&profile);
        let candidates = self
            .index
            .candidates(&keys, self.matching.max_block)
            .into_iter()
            .map(|i| (self.ids[i as usize], &self.profiles[i as usize]));
        let scored = reconcile::score_candidates(&profile, candidates, &self.matching);
        reconcile::decide_fuzzy(scored, &self.matching)
    }
}

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    let at = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted.get(at).copied().unwrap_or_default()
}

fn bench(c: &mut Criterion) {
    let data = generate(&Scenario {
        people: STORED,
        ..Scenario::default()
    });
    let store = Store::new(&data.left);
    let queries = &data.right[..20_000.min(data.right.len())];

    let mut times = Vec::with_capacity(queries.len());
    let mut linked = 0usize;
    for q in queries {
        let start = Instant::now();
        let decision = black_box(store.match_one(q));
        times.push(start.elapsed());
        linked += usize::from(matches!(decision, MatchDecision::Link(_)));
    }
    times.sort_unstable();
    println!(
        "match_one vs {STORED} clients over {} queries: p50 {:?}, p95 {:?}, p99 {:?}, max {:?}; {linked} linked",
        times.len(),
        percentile(&times, 0.50),
        percentile(&times, 0.95),
        percentile(&times, 0.99),
        percentile(&times, 1.0),
    );

    let mut next = queries.iter().cycle();
    c.bench_function("match_one_vs_100k_clients", |b| {
        b.iter(|| store.match_one(black_box(next.next().unwrap_or(&queries[0]))))
    });
}

criterion_group!(benches, bench);
criterion_main!(benches);
