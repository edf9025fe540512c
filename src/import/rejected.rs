//! `FILE.rejected.csv`: each refused row with its original cells (bytes as they were, so a
//! Latin-1 row comes back as it went in), its line and the reason, in the file's own separator.
//! Rows are written before their batch commits; a resumed run first drops what was written
//! after the last committed line, so each refused row is listed once. What is written beside
//! the original bytes (the header, the reasons) is in the file's own encoding.

use std::{
    fs::File,
    path::{Path, PathBuf},
};

use super::{ImportError, encoding::ReadAs, file::RawRow};

/// The rejected-rows file of one run.
pub struct Rejected {
    writer: csv::Writer<File>,
    path: PathBuf,
    read_as: ReadAs,
}

/// Where the rejected rows of `file` go: beside it, `FILE.rejected.csv`.
pub fn path_for(file: &Path) -> PathBuf {
    let mut name = file.as_os_str().to_owned();
    name.push(".rejected.csv");
    PathBuf::from(name)
}

impl Rejected {
    /// Starts the file afresh with the header, `line` and `reason`.
    pub fn start(
        path: PathBuf,
        headers: &[String],
        delimiter: u8,
        read_as: ReadAs,
    ) -> Result<Self, ImportError> {
        let file = File::create(&path).map_err(io(&path))?;
        let mut writer = csv::WriterBuilder::new()
            .delimiter(delimiter)
            .flexible(true)
            .from_writer(file);
        writer
            .write_record(
                headers
                    .iter()
                    .map(String::as_str)
                    .chain(["line", "reason"])
                    .map(|h| read_as.encode(h)),
            )
            .map_err(csv_io(&path))?;
        Ok(Self {
            writer,
            path,
            read_as,
        })
    }

    /// Reopens the file of a resumed run, keeping only rows up to `last_line` (those of the
    /// committed batches); starts afresh when there is none.
    pub fn resume(
        path: PathBuf,
        headers: &[String],
        delimiter: u8,
        read_as: ReadAs,
        last_line: u64,
    ) -> Result<Self, ImportError> {
        let kept = match File::open(&path) {
            Ok(file) => {
                let mut reader = csv::ReaderBuilder::new()
                    .delimiter(delimiter)
                    .flexible(true)
                    .from_reader(file);
                let mut kept = Vec::new();
                for record in reader.byte_records() {
                    let record = record.map_err(csv_io(&path))?;
                    let line = record
                        .get(headers.len())
                        .and_then(|l| std::str::from_utf8(l).ok())
                        .and_then(|l| l.parse::<u64>().ok());
                    if line.is_some_and(|l| l <= last_line) {
                        kept.push(record);
                    }
                }
                kept
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Vec::new(),
            Err(e) => return Err(io(&path)(e)),
        };
        let mut rejected = Self::start(path, headers, delimiter, read_as)?;
        for record in &kept {
            rejected
                .writer
                .write_byte_record(record)
                .map_err(csv_io(&rejected.path))?;
        }
        Ok(rejected)
    }

    /// Lists one refused row.
    pub fn write(&mut self, row: &RawRow, reason: &str) -> Result<(), ImportError> {
        let line = row.line.to_string();
        let reason = self.read_as.encode(reason);
        let record: Vec<&[u8]> = row.record.iter().chain([line.as_bytes(), &reason]).collect();
        self.writer.write_record(&record).map_err(csv_io(&self.path))
    }

    /// Writes out what is buffered (before a batch commits).
    pub fn flush(&mut self) -> Result<(), ImportError> {
        self.writer.flush().map_err(io(&self.path))
    }

    /// Flushes and closes the file; removes it when no row was refused.
    pub fn close(mut self, any: bool) -> Result<Option<PathBuf>, ImportError> {
        self.flush()?;
        if any {
            return Ok(Some(self.path));
        }
        drop(self.writer);
        std::fs::remove_file(&self.path).map_err(io(&self.path))?;
        Ok(None)
    }
}

fn io(path: &Path) -> impl Fn(std::io::Error) -> ImportError + '_ {
    move |source| ImportError::Io {
        file: path.display().to_string(),
        source,
    }
}

fn csv_io(path: &Path) -> impl Fn(csv::Error) -> ImportError + '_ {
    move |e| ImportError::Io {
        file: path.display().to_string(),
        source: std::io::Error::other(e.to_string()),
    }
}
