//! A report as rows and columns: printed aligned for a terminal, or written as CSV for a
//! spreadsheet (the CLI's `--format csv` and the console's download are the same bytes).

/// Rows of text under named columns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these columns.
    pub fn new(headers: &[&'static str]) -> Self {
        Self {
            headers: headers.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row (as many cells as columns).
    pub fn push(&mut self, row: Vec<String>) {
        self.rows.push(row);
    }

    /// The column names.
    pub fn headers(&self) -> &[&'static str] {
        &self.headers
    }

    /// The rows, in order.
    pub fn rows(&self) -> &[Vec<String>] {
        &self.rows
    }

    /// Columns padded to their widest cell, numbers flush right, for a terminal.
    pub fn to_text(&self) -> String {
        let widths: Vec<usize> = (0..self.headers.len())
            .map(|i| {
                self.rows
                    .iter()
                    .filter_map(|r| r.get(i))
                    .map(|c| c.chars().count())
                    .chain([self.headers[i].len()])
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let line = |cells: Vec<&str>| {
            let padded: Vec<String> = cells
                .iter()
                .zip(&widths)
                .map(|(cell, &w)| {
                    if looks_numeric(cell) {
                        format!("{cell:>w$}")
                    } else {
                        format!("{cell:<w$}")
                    }
                })
                .collect();
            padded.join("  ").trim_end().to_owned()
        };
        let mut out = line(self.headers.clone());
        out.push('\n');
        for row in &self.rows {
            out.push_str(&line(row.iter().map(String::as_str).collect()));
            out.push('\n');
        }
        out
    }

    /// RFC 4180 CSV with a header row.
    pub fn to_csv(&self) -> String {
        let mut writer = csv::Writer::from_writer(Vec::new());
        let written = writer
            .write_record(&self.headers)
            .and_then(|()| self.rows.iter().try_for_each(|row| writer.write_record(row)));
        match (written, writer.into_inner()) {
            (Ok(()), Ok(bytes)) => String::from_utf8_lossy(&bytes).into_owned(),
            // Writing to memory does not fail; an empty file is the least wrong answer if it did.
            _ => String::new(),
        }
    }
}

fn looks_numeric(cell: &str) -> bool {
    !cell.is_empty()
        && cell.chars().all(|c| c.is_ascii_digit() || c == '.' || c == '-')
        && cell.chars().any(|c| c.is_ascii_digit())
        && !cell.contains("--")
        && cell.matches('-').count() <= 1
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn csv_quotes_a_cell_with_a_comma_and_text_aligns_numbers_right() {
        let mut table = Table::new(&["day", "event_type", "count"]);
        table.push(vec!["2026-01-01".into(), "a,b".into(), "7".into()]);
        table.push(vec!["2026-01-02".into(), "c".into(), "12".into()]);
        assert_eq!(
            table.to_csv(),
            "day,event_type,count\n2026-01-01,\"a,b\",7\n2026-01-02,c,12\n"
        );
        assert_eq!(
            table.to_text(),
            "day         event_type  count\n2026-01-01  a,b             7\n2026-01-02  c              12\n"
        );
    }
}
