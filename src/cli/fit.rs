//! `fit`: estimates the worker's match weights from this deployment's own records, without
//! labels, checks them on the store's own exact-key pairs and against sanity bounds, and writes
//! them for `matching.model_file` only when they pass.

use std::{collections::HashMap, path::PathBuf, time::Instant};

use anyhow::bail;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    config::Config,
    domain::{ids::ClientId, source::Source},
    reconcile::{
        self, Field, MatchDecision, Matching,
        fuzzy::{self, LinkOptions, Model, Profile},
    },
    store::{self, records},
};

/// Records read per query.
const PAGE: u64 = 5_000;

/// Arguments of `fit`.
#[derive(Debug, clap::Args)]
pub struct FitArgs {
    /// Where to write the fitted model (JSON); point `matching.model_file` at it.
    #[arg(long)]
    pub out: PathBuf,
    /// Refuse to fit with fewer records than this on either side: the defaults are better.
    #[arg(long, default_value_t = 100)]
    pub min_records: usize,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// How a model decides the store's exact-key pairs, which the worker already joined by key.
#[derive(Debug, Default, Clone, Copy, PartialEq, Eq)]
pub struct KeyPairCheck {
    /// Pairs checked.
    pub pairs: usize,
    /// Auto-linked.
    pub linked: usize,
    /// Sent to an operator.
    pub review: usize,
}

impl std::fmt::Display for KeyPairCheck {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let share = |n: usize| 100.0 * n as f64 / self.pairs.max(1) as f64;
        write!(
            f,
            "links {} ({:.1} %), review {} ({:.1} %), new client {}",
            self.linked,
            share(self.linked),
            self.review,
            share(self.review),
            self.pairs - self.linked - self.review
        )
    }
}

/// Every (HubSpot, ClickUp) pair of records sharing a folded document key or email.
fn exact_key_pairs(hubspot: &[Profile], clickup: &[Profile]) -> Vec<(usize, usize)> {
    let mut by_key: HashMap<(usize, &str), Vec<usize>> = HashMap::new();
    for (j, p) in clickup.iter().enumerate() {
        for (kind, key) in p.exact_keys().into_iter().enumerate() {
            if let Some(key) = key {
                by_key.entry((kind, key)).or_default().push(j);
            }
        }
    }
    let mut pairs = Vec::new();
    for (i, p) in hubspot.iter().enumerate() {
        let mut found: Vec<usize> = p
            .exact_keys()
            .into_iter()
            .enumerate()
            .filter_map(|(kind, key)| by_key.get(&(kind, key?)))
            .flatten()
            .copied()
            .collect();
        found.sort_unstable();
        found.dedup();
        pairs.extend(found.into_iter().map(|j| (i, j)));
    }
    pairs
}

/// Decides each pair as the worker would (`score_candidates`, `decide_fuzzy`), with the exact
/// keys hidden when `hide_keys`: then only the other fields' evidence counts.
pub fn check_key_pairs(
    matching: &Matching,
    hubspot: &[Profile],
    clickup: &[Profile],
    pairs: &[(usize, usize)],
    hide_keys: bool,
) -> KeyPairCheck {
    let mut check = KeyPairCheck {
        pairs: pairs.len(),
        ..KeyPairCheck::default()
    };
    let client = ClientId::generate();
    for (i, j) in pairs {
        let (a, b) = if hide_keys {
            (hubspot[*i].without_exact_keys(), clickup[*j].without_exact_keys())
        } else {
            (hubspot[*i].clone(), clickup[*j].clone())
        };
        let scored = reconcile::score_candidates(&a, [(client, &b)], matching);
        match reconcile::decide_fuzzy(scored, matching) {
            MatchDecision::Link(_) => check.linked += 1,
            MatchDecision::Ambiguous { .. } => check.review += 1,
            _ => {}
        }
    }
    check
}

/// Reads every active HubSpot and ClickUp record, links the two sides as the batch matcher
/// does (u from random pairs, prior from exact-key pairs, m by bounded EM), prints how the
/// model decides the store's own exact-key pairs, and writes it only if its weights are sane.
pub async fn fit(config: &Config, args: &FitArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let matching = config.matching.matching()?;
    let db = store::connect(&config.database).await?;
    let (mut hubspot, mut clickup) = (Vec::new(), Vec::new());
    let mut after = 0;
    loop {
        let (page, last) = records::active_page(&db, after, PAGE).await?;
        for record in &page {
            let profile = Profile::build(|f: Field| record.fields.value(f), matching.profile);
            match record.source {
                Source::HubSpot => hubspot.push(profile),
                Source::ClickUp => clickup.push(profile),
            }
        }
        match last {
            Some(last) => after = last,
            None => break,
        }
    }
    if hubspot.len() < args.min_records || clickup.len() < args.min_records {
        bail!(
            "{} HubSpot and {} ClickUp records: at least {} on each side are needed to fit; \
             the built-in weights stay in use",
            hubspot.len(),
            clickup.len(),
            args.min_records
        );
    }
    let bar = if args.quiet {
        ProgressBar::hidden()
    } else {
        ProgressBar::with_draw_target(Some(hubspot.len() as u64), ProgressDrawTarget::stderr())
    };
    bar.set_style(
        ProgressStyle::with_template("{spinner} comparing {pos}/{len} HubSpot records {wide_bar} {eta}")
            .unwrap_or_else(|_| ProgressStyle::default_bar()),
    );
    let options = LinkOptions {
        max_block: matching.max_block,
        ..LinkOptions::default()
    };
    let result = fuzzy::link(&hubspot, &clickup, &options, &|n| bar.inc(n));
    bar.finish_and_clear();
    let estimate = &result.estimate;
    println!(
        "fitted on {} HubSpot × {} ClickUp records: {} candidate pairs, prior {:.4} from {} \
         exact-key pairs (rule recall {:.3}), {} EM iterations{}, {:.2} s",
        hubspot.len(),
        clickup.len(),
        result.candidates,
        result.model.lambda(),
        estimate.anchor_pairs,
        estimate.rule_recall,
        estimate.iterations,
        if estimate.converged {
            ""
        } else {
            " (not converged)"
        },
        started.elapsed().as_secs_f64(),
    );
    for field in Field::MATCHED {
        if result.observed[field.index()] > 0 {
            println!(
                "  {:<14} agree {:+6.1} bits, differ {:+6.1} bits",
                field.as_str(),
                result.model.strength(field),
                result.model.weight(field, fuzzy::compare::DIFFERENT)
            );
        }
    }
    print_key_pair_check(&matching, &result.model, &hubspot, &clickup);
    if let Err(why) = fuzzy::plausible::check(&result.model) {
        bail!(
            "refused, nothing written to {}: {why}. The weights in use stay as they are",
            args.out.display()
        );
    }
    crate::batch::write_json(&args.out, &result.model)?;
    println!(
        "wrote {} (model version {})",
        args.out.display(),
        fuzzy::explain::version(&result.model)
    );
    Ok(())
}

fn print_key_pair_check(matching: &Matching, fitted: &Model, hubspot: &[Profile], clickup: &[Profile]) {
    let pairs = exact_key_pairs(hubspot, clickup);
    println!(
        "check on the store's {} exact-key pairs (HubSpot and ClickUp records sharing a document \
         key or email), decided as the worker would:",
        pairs.len()
    );
    for (name, model) in [("fitted", fitted), ("built-in", &Model::default())] {
        let with = Matching {
            model: model.clone(),
            ..matching.clone()
        };
        println!(
            "  {name:<8} model: {}; on the other fields alone: {}",
            check_key_pairs(&with, hubspot, clickup, &pairs, false),
            check_key_pairs(&with, hubspot, clickup, &pairs, true)
        );
    }
}
