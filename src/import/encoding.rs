//! An export's text encoding. Spanish Excel often saves Windows-1252: a file that is not UTF-8
//! and holds no UTF-8 character beyond ASCII is read as Windows-1252 (every byte is a character
//! there, and the separators and quotes are the same bytes as in UTF-8), while a file mixing
//! both cannot be told and stays UTF-8, each row that is not refused by its line.

use std::{borrow::Cow, fs::File, io::Read, path::Path};

use encoding_rs::WINDOWS_1252;

/// Which encoding to read an export in, as `--encoding` asks.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum Encoding {
    /// UTF-8 when the file is; Windows-1252 when it is not and holds no UTF-8 beyond ASCII.
    #[default]
    Auto,
    /// UTF-8 whatever the bytes: a row that is not is refused by its line.
    Utf8,
    /// Windows-1252 whatever the bytes (every byte is a character there).
    Windows1252,
}

/// The encoding an export was read in, so the user is told when it was not UTF-8.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ReadAs {
    /// UTF-8 (with or without a byte order mark).
    Utf8,
    /// Windows-1252: the file was not UTF-8.
    Windows1252,
}

impl ReadAs {
    /// The encoding's name, as the user names it.
    pub fn as_str(self) -> &'static str {
        match self {
            ReadAs::Utf8 => "UTF-8",
            ReadAs::Windows1252 => "Windows-1252",
        }
    }

    /// Bytes of the file as text, or `None` when they are not UTF-8 and the file is read as UTF-8.
    pub fn decode(self, bytes: &[u8]) -> Option<Cow<'_, str>> {
        match self {
            ReadAs::Utf8 => std::str::from_utf8(bytes).ok().map(Cow::Borrowed),
            ReadAs::Windows1252 => Some(WINDOWS_1252.decode_without_bom_handling(bytes).0),
        }
    }

    /// Text written beside the file's own bytes (the rejected file's header and reasons), in
    /// the file's encoding so the rejected file reads as one (a character Windows-1252 lacks
    /// becomes a numeric reference).
    pub fn encode(self, text: &str) -> Cow<'_, [u8]> {
        match self {
            ReadAs::Utf8 => Cow::Borrowed(text.as_bytes()),
            ReadAs::Windows1252 => WINDOWS_1252.encode(text).0,
        }
    }
}

/// What the bytes of a file hold beyond ASCII.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
struct Bytes {
    /// Some bytes are not UTF-8.
    invalid: bool,
    /// Some bytes are a UTF-8 character beyond ASCII.
    multibyte: bool,
}

/// Reads `source` to its end (or until both are known) and says what its bytes hold; a UTF-8
/// character split across two reads is joined before it is judged.
fn survey(mut source: impl Read) -> std::io::Result<Bytes> {
    let mut found = Bytes::default();
    let mut buf = vec![0; 256 * 1024];
    let mut carried = 0;
    loop {
        let n = source.read(&mut buf[carried..])?;
        let end = carried + n;
        let last = n == 0;
        let mut seen = 0;
        carried = 0;
        for chunk in buf[..end].utf8_chunks() {
            seen += chunk.valid().len() + chunk.invalid().len();
            found.multibyte |= !chunk.valid().is_ascii();
            if chunk.invalid().is_empty() {
                continue;
            }
            if seen == end && !last {
                // Maybe the start of a character the next read completes.
                carried = chunk.invalid().len();
            } else {
                found.invalid = true;
            }
        }
        if last || (found.invalid && found.multibyte) {
            return Ok(found);
        }
        buf.copy_within(end - carried..end, 0);
    }
}

/// The encoding to read `path` in: the one asked for, or what its bytes show (read to the end).
pub fn read_as(path: &Path, encoding: Encoding) -> std::io::Result<ReadAs> {
    Ok(match encoding {
        Encoding::Utf8 => ReadAs::Utf8,
        Encoding::Windows1252 => ReadAs::Windows1252,
        Encoding::Auto => match survey(File::open(path)?)? {
            Bytes {
                invalid: true,
                multibyte: false,
            } => ReadAs::Windows1252,
            _ => ReadAs::Utf8,
        },
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_character_split_across_two_reads_is_still_utf8() {
        /// Hands out its bytes one at a time, so every character is split.
        struct Trickle<'a>(&'a [u8]);
        impl Read for Trickle<'_> {
            fn read(&mut self, buf: &mut [u8]) -> std::io::Result<usize> {
                let Some((first, rest)) = self.0.split_first() else {
                    return Ok(0);
                };
                buf[0] = *first;
                self.0 = rest;
                Ok(1)
            }
        }
        let utf8 = survey(Trickle("Søren Íñigo €".as_bytes())).unwrap();
        assert_eq!((utf8.invalid, utf8.multibyte), (false, true));
        let latin1 = survey(Trickle(b"S\xf8ren I\xf1igo")).unwrap();
        assert_eq!((latin1.invalid, latin1.multibyte), (true, false));
        let cut = survey(Trickle(b"abc\xc3")).unwrap();
        assert!(cut.invalid, "a character cut off at the end is not UTF-8");
    }
}
