//! The file's rows cut into batches of checked rows: each row decoded and validated, the
//! refused ones written to the rejected file before their batch commits.

use std::collections::BTreeMap;

use crate::domain::phone::Country;

use super::{
    ImportError, ImportJob,
    columns::ImportColumns,
    file::Export,
    rejected::{self, Rejected},
    stats::ColumnStats,
    validate::{ValidRow, validate},
};

/// Rows read since the last batch, validated.
pub(super) struct Batch {
    pub(super) valid: Vec<ValidRow>,
    pub(super) read: u64,
    pub(super) rejected: u64,
    pub(super) last_line: u64,
    pub(super) offset: u64,
    pub(super) columns: BTreeMap<String, ColumnStats>,
}

/// The file's rows, cut into batches of validated rows; refused ones go to the rejected file.
pub(super) struct Rows {
    pub(super) export: Export,
    pub(super) columns: ImportColumns,
    pub(super) rejected: Rejected,
    pub(super) country: Option<Country>,
    pub(super) size: usize,
    pub(super) after_line: u64,
}

impl Rows {
    pub(super) fn next_batch(&mut self) -> Result<Option<Batch>, ImportError> {
        let mut batch = Batch {
            valid: Vec::with_capacity(self.size),
            read: 0,
            rejected: 0,
            last_line: self.after_line,
            offset: 0,
            columns: self
                .columns
                .stats
                .iter()
                .map(|(name, _)| (name.clone(), ColumnStats::default()))
                .collect(),
        };
        while batch.read < self.size as u64 {
            let Some(row) = self.export.next_row()? else { break };
            batch.offset = row.offset;
            if row.line <= self.after_line {
                continue;
            }
            batch.read += 1;
            batch.last_line = row.line;
            let checked = row
                .cells(&self.export.headers, self.export.read_as)
                .and_then(|cells| {
                    let cells: Vec<&str> = cells.iter().map(AsRef::as_ref).collect();
                    let valid = validate(
                        &self.columns,
                        &self.export.headers,
                        &cells,
                        row.line,
                        self.country,
                    )?;
                    for (name, i) in &self.columns.stats {
                        if let (Some(figures), Some(cell)) = (batch.columns.get_mut(name), cells.get(*i)) {
                            figures.add(cell);
                        }
                    }
                    Ok(valid)
                });
            match checked {
                Ok(valid) => batch.valid.push(valid),
                Err(reason) => {
                    batch.rejected += 1;
                    self.rejected.write(&row, &reason)?;
                }
            }
        }
        self.rejected.flush()?;
        Ok((batch.read > 0).then_some(batch))
    }
}

/// Opens the file and checks its columns: what every run, dry or not, starts with.
pub(super) fn open(job: &ImportJob, country: Option<Country>, after_line: u64) -> Result<Rows, ImportError> {
    let name = job.file.display().to_string();
    let export = Export::open(&job.file, job.encoding)?;
    let columns = ImportColumns::resolve(&name, &export.headers, job.source, &job.mapping, &job.stats)?;
    let path = rejected::path_for(&job.file);
    let rejected = if after_line > 0 {
        Rejected::resume(
            path,
            &export.headers,
            export.delimiter,
            export.read_as,
            after_line,
        )?
    } else {
        Rejected::start(path, &export.headers, export.delimiter, export.read_as)?
    };
    Ok(Rows {
        export,
        columns,
        rejected,
        country,
        size: job.batch.max(1),
        after_line,
    })
}
