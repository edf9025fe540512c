//! Matching CSV exports offline: `clientsync match` and `clientsync evaluate`. Reads the files,
//! runs the same matcher the service uses, and writes the pairs all at once or not at all.

pub mod columns;
pub mod evaluate;

use std::{
    collections::HashSet,
    fs::File,
    io::{BufRead, BufReader, Write},
    path::{Path, PathBuf},
    time::{Duration, Instant},
};

pub use columns::{ColumnMap, ColumnOverride};

use crate::reconcile::{
    Field,
    fuzzy::{self, LinkOptions, LinkResult, Profile, ProfileOptions},
};

/// Why a batch run failed; every variant names the file, and the line when one is at fault.
#[derive(Debug, thiserror::Error)]
pub enum BatchError {
    /// The file could not be opened or read.
    #[error("{file}: {source}")]
    Io {
        /// The file.
        file: String,
        /// What the system said.
        source: std::io::Error,
    },
    /// A line is not valid CSV or has the wrong number of fields.
    #[error("{file}, line {line}: {problem}")]
    Line {
        /// The file.
        file: String,
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        problem: String,
    },
    /// A column the user named is not in the header.
    #[error("{file}: no column named `{header}`")]
    MissingColumn {
        /// The file.
        file: String,
        /// The header asked for.
        header: String,
    },
    /// No header maps to a client field.
    #[error("{file}: no column maps to a client field; name them with --column field=header")]
    NoKnownColumns {
        /// The file.
        file: String,
    },
    /// A `--column` value is not `field=header`.
    #[error("`{0}` is not field=header")]
    BadColumnSpec(String),
    /// A `--column` field is not a client field.
    #[error("`{0}` is not a client field (try email, document_key, given_name, postcode…)")]
    UnknownField(String),
    /// Two records share an id, so pairs could not be told apart.
    #[error("{file}, line {line}: id `{id}` was already used")]
    DuplicateId {
        /// The file.
        file: String,
        /// 1-based line number.
        line: u64,
        /// The repeated id.
        id: String,
    },
}

fn io(file: &Path) -> impl FnOnce(std::io::Error) -> BatchError + '_ {
    move |source| BatchError::Io {
        file: file.display().to_string(),
        source,
    }
}

/// Records of one file: ids and profiles, in file order.
#[derive(Debug, Default)]
pub struct Records {
    /// Record ids.
    pub ids: Vec<String>,
    /// Matching profiles.
    pub profiles: Vec<Profile>,
}

/// Reads a CSV export into profiles; the first bad line stops the read with its number.
pub fn read(
    path: &Path,
    id: Option<&str>,
    overrides: &[ColumnOverride],
    options: ProfileOptions,
) -> Result<Records, BatchError> {
    let file = File::open(path).map_err(io(path))?;
    read_from(&path.display().to_string(), file, id, overrides, options)
}

/// Reads CSV text into profiles, naming `name` in errors: `read` without the file, so the
/// reader can be fed bytes (the `csv_columns` fuzz target, tests).
pub fn read_from(
    name: &str,
    source: impl std::io::Read,
    id: Option<&str>,
    overrides: &[ColumnOverride],
    options: ProfileOptions,
) -> Result<Records, BatchError> {
    let name = name.to_owned();
    let line_error = |line: u64, problem: String| BatchError::Line {
        file: name.clone(),
        line,
        problem,
    };
    // Spreadsheets in much of Europe export with `;` (the comma is their decimal mark), and some
    // tools with tabs: the header line says which, so no flag is needed.
    let mut source = BufReader::with_capacity(64 * 1024, source);
    let delimiter = sniff_delimiter(source.fill_buf().map_err(|e| line_error(1, e.to_string()))?);
    let mut reader = csv::ReaderBuilder::new()
        .flexible(false)
        .delimiter(delimiter)
        .from_reader(source);
    let headers: Vec<String> = reader
        .headers()
        .map_err(|e| line_error(1, describe(&e)))?
        .iter()
        .map(str::to_owned)
        .collect();
    let map = ColumnMap::resolve(&name, &headers, id, overrides)?;
    let mut records = Records::default();
    let mut seen = HashSet::new();
    for (n, row) in reader.records().enumerate() {
        let row = row.map_err(|e| {
            let line = e.position().map_or(n as u64 + 2, csv::Position::line);
            line_error(line, describe(&e))
        })?;
        let line = row.position().map_or(n as u64 + 2, csv::Position::line);
        let id = match map.id {
            Some(i) => row.get(i).unwrap_or_default().trim().to_owned(),
            None => (n + 1).to_string(),
        };
        if id.is_empty() {
            return Err(line_error(line, "the id column is empty".to_owned()));
        }
        if !seen.insert(id.clone()) {
            return Err(BatchError::DuplicateId { file: name, line, id });
        }
        let profile = Profile::build(
            |field| {
                map.fields
                    .iter()
                    .find(|(f, _)| *f == field)
                    .and_then(|(_, i)| row.get(*i))
                    .filter(|v| !v.trim().is_empty())
            },
            options,
        );
        records.ids.push(id);
        records.profiles.push(profile);
    }
    Ok(records)
}

/// The separator of a CSV export: whichever of `,`, `;` and tab occurs most often outside quotes
/// on its first line (a comma when none does).
pub fn sniff_delimiter(start: &[u8]) -> u8 {
    let line = start.split(|b| *b == b'\n').next().unwrap_or_default();
    let mut counts = [0usize; 3];
    let mut quoted = false;
    for b in line {
        match b {
            b'"' => quoted = !quoted,
            b',' if !quoted => counts[0] += 1,
            b';' if !quoted => counts[1] += 1,
            b'\t' if !quoted => counts[2] += 1,
            _ => {}
        }
    }
    let candidates = [b',', b';', b'\t'];
    // Ties go to the comma: the first maximum wins.
    let best = (0..3).fold(0, |best, i| if counts[i] > counts[best] { i } else { best });
    candidates[best]
}

fn describe(e: &csv::Error) -> String {
    match e.kind() {
        csv::ErrorKind::UnequalLengths {
            expected_len, len, ..
        } => {
            format!("{len} fields where the header has {expected_len}")
        }
        csv::ErrorKind::Utf8 { .. } => "not valid UTF-8".to_owned(),
        _ => e.to_string(),
    }
}

/// What a match run did, for the summary line.
#[derive(Debug)]
pub struct Summary {
    /// Records read on the left (or in the deduplicated file).
    pub left: usize,
    /// Records read on the right (0 when deduplicating).
    pub right: usize,
    /// Candidate pairs compared.
    pub candidates: usize,
    /// Pairs written.
    pub pairs: usize,
    /// Time spent reading.
    pub read: Duration,
    /// Time spent matching.
    pub matching: Duration,
    /// The fitted model.
    pub result: LinkResult,
}

impl Summary {
    /// The comparators the data had, ranked by the evidence their exact agreement gives.
    pub fn strongest_fields(&self) -> Vec<(&'static str, f64, f64)> {
        let model = &self.result.model;
        let mut ranked: Vec<_> = Field::MATCHED
            .iter()
            .filter(|c| self.result.observed[c.index()] > 0)
            .map(|c| {
                (
                    c.as_str(),
                    model.strength(*c),
                    model.weight(*c, fuzzy::compare::DIFFERENT),
                )
            })
            .collect();
        ranked.sort_by(|a, b| b.1.total_cmp(&a.1));
        ranked
    }
}

/// Writes `left_id,right_id,probability` rows to `out` through a temporary file renamed into
/// place, so a failure never leaves half a file.
pub fn write_pairs(
    out: &Path,
    left: &Records,
    right: &Records,
    result: &LinkResult,
) -> Result<(), BatchError> {
    write_atomically(out, |w| {
        writeln!(w, "left_id,right_id,probability")?;
        let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(w);
        for p in &result.pairs {
            csv.write_record([
                left.ids[p.left as usize].as_str(),
                right.ids[p.right as usize].as_str(),
                &format!("{:.6}", p.probability),
            ])?;
        }
        csv.flush()
    })
}

/// Writes `id,cluster_id` rows (the cluster named by its first record's id) to `out`, all or
/// nothing; `clusters` holds each record's cluster as the position of its first member.
pub fn write_clusters(out: &Path, records: &Records, clusters: &[u32]) -> Result<(), BatchError> {
    write_atomically(out, |w| {
        writeln!(w, "id,cluster_id")?;
        let mut csv = csv::WriterBuilder::new().has_headers(false).from_writer(w);
        for (id, cluster) in records.ids.iter().zip(clusters) {
            let name = records.ids.get(*cluster as usize).unwrap_or(id);
            csv.write_record([id.as_str(), name.as_str()])?;
        }
        csv.flush()
    })
}

/// Writes `value` as pretty JSON to `out`, all or nothing.
pub fn write_json(out: &Path, value: &impl serde::Serialize) -> Result<(), BatchError> {
    write_atomically(out, |w| {
        serde_json::to_writer_pretty(&mut *w, value)?;
        writeln!(w)
    })
}

/// Runs `write` into a temporary file beside `out`, syncs it and renames it into place; on
/// any failure the temporary file is removed and `out` is untouched.
fn write_atomically(
    out: &Path,
    write: impl FnOnce(&mut std::io::BufWriter<&mut File>) -> std::io::Result<()>,
) -> Result<(), BatchError> {
    let dir = out
        .parent()
        .filter(|p| !p.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let (tmp, mut file) = tempfile_in(dir, out)?;
    let written = (|| {
        let mut w = std::io::BufWriter::new(&mut file);
        write(&mut w)?;
        w.flush()?;
        drop(w);
        file.sync_all()?;
        std::fs::rename(&tmp, out)
    })();
    if let Err(e) = written {
        let _ = std::fs::remove_file(&tmp);
        return Err(io(out)(e));
    }
    Ok(())
}

fn tempfile_in(dir: &Path, out: &Path) -> Result<(PathBuf, File), BatchError> {
    let name = out
        .file_name()
        .map_or("out".into(), |n| n.to_string_lossy().into_owned());
    let path = dir.join(format!(".{name}.{}.tmp", std::process::id()));
    let file = File::create(&path).map_err(io(&path))?;
    Ok((path, file))
}

/// One batch run: which files, how their columns map, how to match, where to write.
#[derive(Debug)]
pub struct Job<'a> {
    /// First file, or the only one when deduplicating.
    pub left: &'a Path,
    /// Second file; `None` deduplicates `left`.
    pub right: Option<&'a Path>,
    /// Pairs file to write.
    pub out: &'a Path,
    /// When deduplicating, where to write each record's cluster.
    pub clusters: Option<&'a Path>,
    /// Header of the id column.
    pub id: Option<&'a str>,
    /// Column mappings given by the user.
    pub overrides: &'a [ColumnOverride],
    /// Folding options.
    pub profile: ProfileOptions,
    /// Matching options.
    pub options: LinkOptions,
}

/// Links two files (or deduplicates one) and writes the pairs. `on_read` is told how many
/// records will be matched; `progress` how many have been.
pub fn run(
    job: &Job<'_>,
    progress: &(dyn Fn(u64) + Sync),
    on_read: &dyn Fn(usize),
) -> Result<Summary, BatchError> {
    let started = Instant::now();
    let left = read(job.left, job.id, job.overrides, job.profile)?;
    let right = match job.right {
        Some(path) => Some(read(path, job.id, job.overrides, job.profile)?),
        None => None,
    };
    let (options, out) = (&job.options, job.out);
    let read_time = started.elapsed();
    on_read(left.profiles.len());
    let started = Instant::now();
    let result = match &right {
        Some(r) => fuzzy::link(&left.profiles, &r.profiles, options, progress),
        None => fuzzy::dedupe(&left.profiles, options, progress),
    };
    let matching = started.elapsed();
    write_pairs(out, &left, right.as_ref().unwrap_or(&left), &result)?;
    if let (Some(path), Some(clusters)) = (job.clusters, &result.clusters) {
        write_clusters(path, &left, clusters)?;
    }
    Ok(Summary {
        left: left.profiles.len(),
        right: right.as_ref().map_or(0, |r| r.profiles.len()),
        candidates: result.candidates,
        pairs: result.pairs.len(),
        read: read_time,
        matching,
        result,
    })
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile_text::text;

    fn read_text(text: &str) -> Records {
        read_from(
            "test.csv",
            text.as_bytes(),
            Some("id"),
            &[],
            ProfileOptions::default(),
        )
        .expect("read")
    }

    #[test]
    fn a_semicolon_export_with_a_byte_order_mark_reads_like_a_comma_one() {
        let comma = read_text("id,First Name,Last Name,Email\n1,Søren,Kierkegaard,soren@example.dk\n");
        let semicolon =
            read_text("\u{feff}id;First Name;Last Name;Email\n1;Søren;Kierkegaard;soren@example.dk\n");
        assert_eq!(semicolon.ids, vec!["1".to_owned()]);
        assert_eq!(
            format!("{:?}", semicolon.profiles),
            format!("{:?}", comma.profiles)
        );
    }

    #[test]
    fn the_separator_is_the_one_the_header_uses_outside_quotes() {
        assert_eq!(sniff_delimiter(b"id;name;email\n1,5;x;y"), b';');
        assert_eq!(sniff_delimiter(b"id\tname\temail"), b'\t');
        assert_eq!(sniff_delimiter(b"\"a;b;c\",name\n"), b',');
        assert_eq!(sniff_delimiter(b"id"), b',');
        assert_eq!(sniff_delimiter(b""), b',');
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(64))]
        #[test]
        fn a_csv_of_any_text_is_read_and_deduplicated_or_refused_without_panicking(
            cells in proptest::collection::vec(text(), 0..12),
        ) {
            let dir = tempfile::tempdir().map_err(|e| TestCaseError::fail(e.to_string()))?;
            let path = dir.path().join("any.csv");
            let mut csv = String::from("id,First Name,Last Name,Email,Tax ID,Phone,DOB,Company,Zip\n");
            for (n, chunk) in cells.chunks(8).enumerate() {
                let quoted: Vec<String> = chunk.iter().map(|c| format!("\"{}\"", c.replace('"', "\"\""))).collect();
                csv.push_str(&format!("{n},{}\n", quoted.join(",")));
            }
            for cell in &cells {
                csv.push_str(cell);
            }
            std::fs::write(&path, csv).map_err(|e| TestCaseError::fail(e.to_string()))?;
            if let Ok(records) = read(&path, None, &[], ProfileOptions::default()) {
                let _ = fuzzy::dedupe(&records.profiles, &LinkOptions::default(), &|_| {});
            }
        }
    }
}
