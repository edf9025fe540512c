//! Reading an export as bytes: a UTF-8 byte order mark is skipped, the separator (`,`, `;` or
//! tab) is read off the header line as Spanish Excel exports need, and the text encoding is
//! found before any row is read (`encoding`), so each cell is decoded as the file was written.

use std::{
    borrow::Cow,
    fs::File,
    io::{BufRead, BufReader, Read},
    path::Path,
};

use sha2::{Digest, Sha256};

use crate::batch::sniff_delimiter;

use super::{
    ImportError,
    encoding::{Encoding, ReadAs, read_as},
};

const BOM: &[u8] = b"\xEF\xBB\xBF";

/// An open export: its header and delimiter, and its rows one by one.
pub struct Export {
    reader: csv::Reader<BufReader<File>>,
    /// The header cells.
    pub headers: Vec<String>,
    /// The separator found on the header line.
    pub delimiter: u8,
    /// The encoding its bytes are read in.
    pub read_as: ReadAs,
    /// The file's size, for the progress bar.
    pub bytes: u64,
    name: String,
}

/// One data row as read: its line, its raw cells, and where the file stands after it.
pub struct RawRow {
    /// The file line the row starts on (1 is the header).
    pub line: u64,
    /// The cells as bytes (not yet decoded).
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
    /// Opens `path` in `encoding` and reads its header line; a header that cannot be decoded
    /// refuses the file.
    pub fn open(path: &Path, encoding: Encoding) -> Result<Self, ImportError> {
        let name = path.display().to_string();
        let io = |source| ImportError::Io {
            file: name.clone(),
            source,
        };
        let read_as = read_as(path, encoding).map_err(io)?;
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
                read_as
                    .decode(cell)
                    .map(Cow::into_owned)
                    .ok_or_else(|| ImportError::Header {
                        file: name.clone(),
                        problem: format!(
                            "column {} is not valid UTF-8; the file looks like Latin-1 or Windows-1252: \
                             save it as UTF-8 or pass --encoding windows-1252",
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
            read_as,
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
    /// The cells as text in `read_as`, or why the row cannot be read: the wrong number of
    /// cells, or bytes that are not UTF-8 in a file read as UTF-8 (named by column, since the
    /// value itself is personal data).
    pub fn cells<'a>(&'a self, headers: &[String], read_as: ReadAs) -> Result<Vec<Cow<'a, str>>, String> {
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
                read_as.decode(cell).ok_or_else(|| {
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

    fn export(bytes: &[u8], encoding: Encoding) -> (tempfile::TempDir, Export) {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("e.csv");
        std::fs::write(&path, bytes).unwrap();
        let export = Export::open(&path, encoding).unwrap();
        (dir, export)
    }

    fn texts(row: &RawRow, e: &Export) -> Vec<String> {
        row.cells(&e.headers, e.read_as)
            .unwrap()
            .into_iter()
            .map(Cow::into_owned)
            .collect()
    }

    #[test]
    fn a_semicolon_export_with_a_byte_order_mark_reads_its_header_clean() {
        let (_dir, mut e) = export(
            "\u{feff}id;Nombre;Correo\n1;Íñigo;i@example.es\n".as_bytes(),
            Encoding::Auto,
        );
        assert_eq!(e.headers, vec!["id", "Nombre", "Correo"]);
        assert_eq!((e.delimiter, e.read_as), (b';', ReadAs::Utf8));
        let row = e.next_row().unwrap().unwrap();
        assert_eq!(row.line, 2);
        assert_eq!(texts(&row, &e), vec!["1", "Íñigo", "i@example.es"]);
        assert!(e.next_row().unwrap().is_none());
    }

    #[test]
    fn a_windows_1252_file_is_read_as_such_header_and_rows() {
        let (_dir, mut e) = export(
            b"id;Tel\xe9fono;Nombre\n1;600;S\xf8ren I\xf1igo\n",
            Encoding::Auto,
        );
        assert_eq!(e.read_as, ReadAs::Windows1252);
        assert_eq!(e.headers, vec!["id", "Teléfono", "Nombre"]);
        let row = e.next_row().unwrap().unwrap();
        assert_eq!(texts(&row, &e), vec!["1", "600", "Søren Iñigo"]);
    }

    #[test]
    fn a_file_mixing_utf8_and_latin1_stays_utf8_and_refuses_the_latin1_row_by_column() {
        let (_dir, mut e) = export(b"id,Name\n1,\xc3\x8d\xc3\xb1igo\n2,I\xf1igo\n3\n", Encoding::Auto);
        assert_eq!(e.read_as, ReadAs::Utf8);
        let first = e.next_row().unwrap().unwrap();
        assert_eq!(texts(&first, &e), vec!["1", "Íñigo"]);
        let latin1 = e.next_row().unwrap().unwrap();
        assert_eq!(latin1.line, 3);
        assert!(
            latin1
                .cells(&e.headers, e.read_as)
                .unwrap_err()
                .contains("`Name` is not valid UTF-8")
        );
        let short = e.next_row().unwrap().unwrap();
        assert_eq!(
            short.cells(&e.headers, e.read_as).unwrap_err(),
            "1 cells where the header has 2"
        );
    }

    #[test]
    fn a_header_that_is_not_utf8_refuses_the_file_when_utf8_is_forced() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("latin1.csv");
        std::fs::write(&path, b"id,Tel\xe9fono\n1,2\n").unwrap();
        let err = Export::open(&path, Encoding::Utf8).err().unwrap();
        assert!(err.to_string().contains("line 1"), "{err}");
        assert!(err.to_string().contains("--encoding windows-1252"), "{err}");
        let forced = Export::open(&path, Encoding::Windows1252).unwrap();
        assert_eq!(forced.headers, vec!["id", "Teléfono"]);
    }
}
