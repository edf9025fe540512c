//! `match`, `generate` and `evaluate`: the matcher on files, for analysts and for measuring it.

use std::{path::PathBuf, time::Instant};

use anyhow::Context;
use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

use crate::{
    batch::{self, ColumnOverride, evaluate::Evaluation},
    generate::{self, Scenario},
    reconcile::fuzzy::{LinkOptions, ProfileOptions},
};

/// Arguments of `match`.
#[derive(Debug, clap::Args)]
#[command(group(clap::ArgGroup::new("input").required(true).args(["left", "dedupe"])))]
pub struct MatchArgs {
    /// First CSV file.
    #[arg(long, requires = "right")]
    pub left: Option<PathBuf>,
    /// Second CSV file.
    #[arg(long, requires = "left")]
    pub right: Option<PathBuf>,
    /// Find duplicates within this one CSV file instead.
    #[arg(long, conflicts_with_all = ["left", "right"])]
    pub dedupe: Option<PathBuf>,
    /// Where to write `left_id,right_id,probability` (with --dedupe: every pair within a cluster).
    #[arg(long)]
    pub out: PathBuf,
    /// With --dedupe: where to write `id,cluster_id`, one row per record.
    #[arg(long, requires = "dedupe", conflicts_with = "all_pairs")]
    pub clusters: Option<PathBuf>,
    /// Header of the id column (default: `id` or `rec_id` if present, else the line number).
    #[arg(long)]
    pub id: Option<String>,
    /// Map a column to a field, e.g. `--column document_key=NIF`; repeatable.
    #[arg(long = "column", value_name = "FIELD=HEADER")]
    pub columns: Vec<ColumnOverride>,
    /// Minimum match probability of a written pair.
    #[arg(long, default_value_t = 0.5)]
    pub threshold: f64,
    /// Write every pair above the threshold instead of each record's best one (or, with
    /// --dedupe, instead of clusters).
    #[arg(long)]
    pub all_pairs: bool,
    /// Treat Gmail addresses that differ only in dots or `+tags` as the same.
    #[arg(long)]
    pub fold_gmail: bool,
    /// A truth file (`left_id,right_id`): print precision, recall and F1 of the result.
    #[arg(long)]
    pub truth: Option<PathBuf>,
    /// Blocking keys shared by more records than this are too common to use.
    #[arg(long, default_value_t = LinkOptions::default().max_block)]
    pub max_block: usize,
    /// No progress bar.
    #[arg(long)]
    pub quiet: bool,
}

/// Arguments of `generate`.
#[derive(Debug, clap::Args)]
pub struct GenerateArgs {
    /// Directory to write left.csv, right.csv and truth.csv into.
    #[arg(long)]
    pub out_dir: PathBuf,
    /// Records in each list.
    #[arg(long, default_value_t = 5_000)]
    pub people: usize,
    /// Share of left records copied, corrupted, into the right list.
    #[arg(long, default_value_t = 0.8)]
    pub overlap: f64,
    /// Share of names given typing errors.
    #[arg(long, default_value_t = 1.0 / 3.0)]
    pub name_typos: f64,
    /// Share of copies whose id column no longer agrees.
    #[arg(long, default_value_t = 0.10)]
    pub id_disagreement: f64,
    /// Random seed.
    #[arg(long, default_value_t = 42)]
    pub seed: u64,
    /// Write one file to deduplicate instead (`dedupe.csv`, `dedupe_truth.csv` with every
    /// within-person pair), half the people having 2 to this many records.
    #[arg(long)]
    pub dedupe_max: Option<usize>,
}

/// Arguments of `evaluate`.
#[derive(Debug, clap::Args)]
pub struct EvaluateArgs {
    /// Pairs found (`left_id,right_id,…`).
    #[arg(long)]
    pub pairs: PathBuf,
    /// True pairs (`left_id,right_id`).
    #[arg(long)]
    pub truth: PathBuf,
}

fn print_evaluation(e: &Evaluation) {
    println!(
        "precision {:.4}  recall {:.4}  F1 {:.4}  (true pairs found {}, false pairs {}, missed {})",
        e.precision(),
        e.recall(),
        e.f1(),
        e.true_positives,
        e.false_positives,
        e.false_negatives
    );
}

/// Runs `match`: reads, links, writes, and prints a summary (and an evaluation with `--truth`).
pub fn run_match(args: &MatchArgs) -> anyhow::Result<()> {
    let started = Instant::now();
    let bar = ProgressBar::with_draw_target(Some(0), ProgressDrawTarget::stderr());
    if args.quiet {
        bar.set_draw_target(ProgressDrawTarget::hidden());
    }
    bar.set_style(
        ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} records {elapsed}")
            .unwrap_or_else(|_| ProgressStyle::default_bar())
            .progress_chars("=> "),
    );
    bar.set_prefix("matching");
    let options = LinkOptions {
        threshold: args.threshold,
        one_to_one: !args.all_pairs,
        max_block: args.max_block,
        ..LinkOptions::default()
    };
    let (left, right) = match (&args.left, &args.right, &args.dedupe) {
        (Some(l), Some(r), _) => (l, Some(r.as_path())),
        (_, _, Some(d)) => (d, None),
        _ => anyhow::bail!("give --left and --right, or --dedupe"),
    };
    let job = batch::Job {
        left,
        right,
        out: &args.out,
        clusters: args.clusters.as_deref(),
        id: args.id.as_deref(),
        overrides: &args.columns,
        profile: ProfileOptions {
            fold_gmail: args.fold_gmail,
        },
        options,
    };
    let summary = batch::run(&job, &|n| bar.inc(n), &|records| bar.set_length(records as u64))?;
    bar.finish_and_clear();
    println!(
        "{} × {} records: {} candidate pairs compared, {} pairs written to {} (read {:.3}s, match {:.3}s, total {:.3}s)",
        summary.left,
        if summary.right == 0 {
            summary.left
        } else {
            summary.right
        },
        summary.candidates,
        summary.pairs,
        args.out.display(),
        summary.read.as_secs_f64(),
        summary.matching.as_secs_f64(),
        started.elapsed().as_secs_f64(),
    );
    let estimate = &summary.result.estimate;
    println!(
        "model: prior {:.4} from {} exact-key pairs among {} candidates (rule recall {:.3}), \
         EM iterations {}{}",
        summary.result.model.lambda(),
        estimate.anchor_pairs,
        estimate.candidate_pairs,
        estimate.rule_recall,
        estimate.iterations,
        if estimate.converged {
            ""
        } else {
            " (not converged)"
        }
    );
    if let Err(why) = crate::reconcile::fuzzy::plausible::check(&summary.result.model) {
        println!("warning: the weights fitted on these files would be refused by `fit`: {why}");
    }
    if let Some(clusters) = &summary.result.clusters {
        let mut sizes = std::collections::HashMap::<u32, usize>::new();
        for c in clusters {
            *sizes.entry(*c).or_default() += 1;
        }
        let grouped = sizes.values().filter(|n| **n > 1).count();
        let largest = sizes.values().max().copied().unwrap_or(0);
        println!("clusters: {grouped} of two or more records, largest {largest}");
    }
    println!("bits of evidence, exact agreement / disagreement:");
    for (field, agree, disagree) in summary.strongest_fields() {
        println!("  {field:<14} {agree:>+6.2} / {disagree:>+6.2}");
    }
    if let Some(truth) = &args.truth {
        print_evaluation(&batch::evaluate::evaluate(&args.out, truth)?);
    }
    Ok(())
}

/// Runs `generate`.
pub fn generate(args: &GenerateArgs) -> anyhow::Result<()> {
    let scenario = Scenario {
        people: args.people,
        overlap: args.overlap,
        name_typos: args.name_typos,
        id_disagreement: args.id_disagreement,
        seed: args.seed,
    };
    if let Some(max) = args.dedupe_max {
        let set = generate::generate_dedupe(&scenario, max);
        generate::write_dedupe(&set, &args.out_dir)
            .with_context(|| format!("writing into {}", args.out_dir.display()))?;
        println!(
            "wrote {} records of {} people and {} true pairs to {}",
            set.records.len(),
            args.people,
            set.truth.len(),
            args.out_dir.display()
        );
        return Ok(());
    }
    let data = generate::generate(&scenario);
    generate::write(&data, &args.out_dir)
        .with_context(|| format!("writing into {}", args.out_dir.display()))?;
    println!(
        "wrote {} left, {} right records and {} true pairs to {}",
        data.left.len(),
        data.right.len(),
        data.truth.len(),
        args.out_dir.display()
    );
    Ok(())
}

/// Runs `evaluate`.
pub fn evaluate(args: &EvaluateArgs) -> anyhow::Result<()> {
    print_evaluation(&batch::evaluate::evaluate(&args.pairs, &args.truth)?);
    Ok(())
}
