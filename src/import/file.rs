//! Reading an export as bytes: a UTF-8 byte order mark is skipped, the separator (`,`, `;` or
//! tab) is read off the header line as Spanish Excel exports need, and each row is checked for
//! UTF-8 on its own, so a file in another encoding is reported by line instead of read as noise.

use std::{
    fs::File,
    io::{BufRead, BufReader, Read},
    path::Path,
};

use sha2::{Digest, Sha256};

use crate::batch::sniff_delimiter;

use super::ImportError;

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An open export: its header and delimiter, and its rows one by one.
pub struct Export {
    reader: csv::Reader<BufReader<File>>,
    /// The header cells.
    pub headers: Vec<String>,
    /// The separator found on the header line.
    pub delimiter: u8,
    /// The file's size, for the progress bar.
    pub bytes: u64,
    name: String,
}

/// One data row as read: its line, its raw cells, and where the file stands after it.
pub struct RawRow {
    /// The file line the row starts on (1 is the header).
    pub line: u64,
    /// The cells as bytes (not yet known to be UTF-8).
    pub record: csv::ByteRecord,
    /// Bytes of the file read so far.
    pub offset: u64,
}

/// Hex SHA-256 of a file's bytes: names the file whatever its path, so a run resumes by it.
pub fn sha256(path: &Path) -> Result<String, ImportError> {
    let io = |source| ImportError::Io {
        file: path.display().to_string(),
        source,
    };
    let mut file = BufReader::with_capacity(256 * 1024, File::open(path).map_err(io)?);
    let mut hash = Sha256::new();
    let mut buf = vec![0; 256 * 1024];
    loop {
        let n = file.read(&mut buf).map_err(io)?;
        if n == 0 {
            break;
        }
        hash.update(&buf[..n]);
    }
    Ok(hex::encode(hash.finalize()))
}

impl Export {
    /// Opens `path` and reads its header line; a header that is not UTF-8 refuses the file.
    pub fn open(path: &Path) -> Result<Self, ImportError> {
        let name = path.display().to_string();
        let io = |source| ImportError::Io {
            file: name.clone(),
            source,
        };
        let file = File::open(path).map_err(io)?;
        let bytes = file.metadata().map_err(io)?.len();
        let mut source = BufReader::with_capacity(256 * 1024, file);
        let start = source.fill_buf().map_err(io)?;
        let bom = start.starts_with(BOM);
        let delimiter = sniff_delimiter(if bom { &start[BOM.len()..] } else { start });
        if bom {
            source.consume(BOM.len());
        }
        let mut reader = csv::ReaderBuilder::new()
            .flexible(true)
            .delimiter(delimiter)
            .from_reader(source);
        let header = reader.byte_headers().map_err(|e| ImportError::Header {
            file: name.clone(),
            problem: e.to_string(),
        })?;
        let headers = header
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                std::str::from_utf8(cell).map(str::to_owned).map_err(|_| ImportError::Header {
                    file: name.clone(),
                    problem: format!(
                        "column {} is not valid UTF-8; the file looks like Latin-1 or Windows-1252: save it as UTF-8",
                        i + 1
                    ),
                })
            })
            .collect::<Result<Vec<_>, _>>()?;
        if headers.iter().all(|h| h.trim().is_empty()) {
            return Err(ImportError::Header {
                file: name,
                problem: "the file is empty or its first line has no column names".to_owned(),
            });
        }
        Ok(Self {
            reader,
            headers,
            delimiter,
            bytes,
            name,
        })
    }

    /// The next data row, `None` at the end.
    pub fn next_row(&mut self) -> Result<Option<RawRow>, ImportError> {
        let mut record = csv::ByteRecord::new();
        let more = self
            .reader
            .read_byte_record(&mut record)
            .map_err(|e| ImportError::Unreadable {
                file: self.name.clone(),
                line: e.position().map_or(0, csv::Position::line),
                problem: e.to_string(),
            })?;
        if !more {
            return Ok(None);
        }
        let line = record.position().map_or(0, csv::Position::line);
        let offset = self.reader.position().byte();
        Ok(Some(RawRow { line, record, offset }))
    }
}

impl RawRow {
    /// The cells as text, or why the row cannot be read: the wrong number of cells, or bytes
    /// that are not UTF-8 (named by column, since the value itself is personal data).
    pub fn cells<'a>(&'a self, headers: &[String]) -> Result<Vec<&'a str>, String> {
        if self.record.len() != headers.len() {
            return Err(format!(
                "{} cells where the header has {}",
                self.record.len(),
                headers.len()
            ));
        }
        self.record
            .iter()
            .enumerate()
            .map(|(i, cell)| {
                std::str::from_utf8(cell).map_err(|_| {
                    format!(
                        "`{}` is not valid UTF-8 (Latin-1 or Windows-1252?): save the file as UTF-8",
                        headers.get(i).map_or("?", |h| h.trim())
                    )
                })
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn export(bytes: &[u8]) -> (tempfile::TempDir, Export) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(&path, bytes).unwrap();
        let export = Export::open(&path).unwrap();
        (dir, export)
    }

    #[test]
    fn a_semicolon_export_with_a_byte_order_mark_reads_its_header_clean() {
        let (_dir, mut e) = export("\u{feff}id;Nombre;Correo\n1;Íñigo;i@example.es\n".as_bytes());
        assert_eq!(e.headers, vec!["id", "Nombre", "Correo"]);
        assert_eq!(e.delimiter, b';');
        let row = e.next_row().unwrap().unwrap();
        assert_eq!(row.line, 2);
        assert_eq!(row.cells(&e.headers).unwrap(), vec!["1", "Íñigo", "i@example.es"]);
        assert!(e.next_row().unwrap().is_none());
    }

    #[test]
    fn a_latin1_row_and_a_short_row_are_refused_by_column_and_count() {
        let (_dir, mut e) = export(b"id,Name\n1,Ana\n2,I\xf1igo\n3\n");
        let _ = e.next_row().unwrap().unwrap();
        let latin1 = e.next_row().unwrap().unwrap();
        assert_eq!(latin1.line, 3);
        assert!(
            latin1
                .cells(&e.headers)
                .unwrap_err()
                .contains("`Name` is not valid UTF-8")
        );
        let short = e.next_row().unwrap().unwrap();
        assert_eq!(
            short.cells(&e.headers).unwrap_err(),
            "1 cells where the header has 2"
        );
    }

    #[test]
    fn a_header_in_another_encoding_refuses_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.csv");
        std::fs::write(&path, b"id,Tel\xe9fono\n1,2\n").unwrap();
        let err = Export::open(&path).err().unwrap();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(err.to_string().contains("save it as UTF-8"), "{err}");
    }
}
