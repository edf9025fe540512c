//! `fit`: estimates the worker's match weights from this deployment's own records, without
//! labels, and writes them for `matching.model_file`.

use std::{path::PathBuf, time::Instant};

use anyhow::{Context, bail};
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    config::Config,
    domain::source::Source,
    reconcile::{
        Field,
        fuzzy::{self, LinkOptions, Profile},
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

/// Reads every active HubSpot and ClickUp record, links the two sides as the batch matcher
/// does (EM over the candidate pairs, u from random pairs), and writes the fitted model.
pub async fn fit(config: &Config, args: &FitArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let matching = config.matching.matching()?;
    let db = store::connect(&config.database)
        .await
        .context("connecting to the database")?;
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
    crate::batch::write_json(&args.out, &result.model)?;
    println!(
        "fitted on {} HubSpot × {} ClickUp records: {} candidate pairs, {} EM iterations, \
         prior {:.4}, {:.2} s; wrote {}",
        hubspot.len(),
        clickup.len(),
        result.candidates,
        result.iterations,
        result.model.lambda(),
        started.elapsed().as_secs_f64(),
        args.out.display()
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
    Ok(())
}
