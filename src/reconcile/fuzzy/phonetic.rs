//! Phonetic codes of names, over plain ASCII only.
//!
//! rphonetic's Double Metaphone slices its (uppercased) input by byte offsets that assume one
//! byte per letter, and panics inside a multi-byte character ("end byte index 2 is not a char
//! boundary; it is inside 'Ø'"): Søren, Sæther, Cæsar, Skłodowska. The encoder here only takes
//! an [`AsciiName`], whose one constructor spells every letter out in ASCII, so no input can
//! reach the encoder's slicing with a byte it does not expect.

use rphonetic::{DoubleMetaphone, Encoder};
use unicode_normalization::{UnicodeNormalization, char::is_combining_mark};

/// A name spelled in ASCII letters, digits and single spaces: the only thing the phonetic
/// encoder accepts, so its byte slicing cannot land inside a character.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AsciiName(String);

/// Letters that canonical decomposition leaves whole (they are not a base letter plus an accent)
/// with the ASCII spelling a reader of the name would use.
fn spelled_out(c: char) -> Option<&'static str> {
    Some(match c {
        'Ø' => "O",
        'ø' => "o",
        'Æ' => "AE",
        'æ' => "ae",
        'Œ' => "OE",
        'œ' => "oe",
        'Ł' => "L",
        'ł' => "l",
        'ß' => "ss",
        'ẞ' => "SS",
        'Đ' | 'Ð' => "D",
        'đ' | 'ð' => "d",
        'Þ' => "TH",
        'þ' => "th",
        'ı' => "i",
        _ => return None,
    })
}

impl AsciiName {
    /// Spells `raw` in ASCII: the letters above by hand, then compatibility decomposition (NFKD
    /// rather than NFD, so full-width letters and ligatures such as `ﬁ` survive as letters)
    /// without combining marks; whatever is still not an ASCII letter or digit is dropped and
    /// whitespace collapses to single spaces. A name that is already lowercase ASCII words
    /// (what `fold` makes of most names) comes out unchanged, so stored phonetic keys stay valid.
    pub fn transliterate(raw: &str) -> Self {
        let mut spelled = String::with_capacity(raw.len());
        for c in raw.chars() {
            match spelled_out(c) {
                Some(ascii) => spelled.push_str(ascii),
                None => spelled.push(c),
            }
        }
        let ascii: String = spelled
            .nfkd()
            .filter(|c| !is_combining_mark(*c))
            .map(|c| if c.is_whitespace() { ' ' } else { c })
            .filter(|c| c.is_ascii_alphanumeric() || *c == ' ')
            .collect();
        Self(ascii.split_whitespace().collect::<Vec<_>>().join(" "))
    }

    /// The ASCII spelling.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

/// Double Metaphone primary code (at most four letters) of a name spelled in ASCII.
pub fn encode(name: &AsciiName) -> String {
    DoubleMetaphone::default().encode(name.as_str())
}

#[cfg(test)]
mod tests {
    use proptest::prelude::*;

    use super::*;
    use crate::hostile_text::text;

    fn code(raw: &str) -> String {
        encode(&AsciiName::transliterate(raw))
    }

    #[test]
    fn nordic_and_polish_letters_are_spelled_out_in_ascii() {
        assert_eq!(AsciiName::transliterate("Søren Sæther").as_str(), "Soren Saether");
        assert_eq!(AsciiName::transliterate("Skłodowska").as_str(), "Sklodowska");
        assert_eq!(AsciiName::transliterate("Cæsar Œuvre").as_str(), "Caesar OEuvre");
        assert_eq!(
            AsciiName::transliterate("Straße Đorđe Þór ðe ı").as_str(),
            "Strasse Dorde THor de i"
        );
        assert_eq!(AsciiName::transliterate("José  Núñez").as_str(), "Jose Nunez");
    }

    #[test]
    fn names_that_crashed_the_encoder_get_the_codes_of_their_ascii_spelling() {
        assert_eq!(code("Søren"), "SRN");
        assert_eq!(code("Søren"), code("Soren"));
        assert_eq!(code("søren"), code("soren"));
        assert_eq!(code("Sørensen"), code("Sorensen"));
        assert_eq!(code("Sæther"), code("Saether"));
        assert_eq!(code("Cæsar"), code("Caesar"));
        assert_eq!(code("Skłodowska"), code("Sklodowska"));
        for name in ["Søren", "Sørensen", "Sæther", "Cæsar", "Skłodowska"] {
            let c = code(name);
            assert!(
                !c.is_empty() && c.len() <= 4 && c.chars().all(|c| c.is_ascii_uppercase() || c == '0'),
                "{name}: {c}"
            );
        }
    }

    #[test]
    fn a_name_with_no_latin_letter_has_an_empty_code() {
        assert_eq!(AsciiName::transliterate("漢字 😀").as_str(), "");
        assert_eq!(code("漢字 😀"), "");
    }

    proptest! {
        #[test]
        fn any_text_is_spelled_in_ascii_and_encodes_without_panicking(raw in text()) {
            let name = AsciiName::transliterate(&raw);
            prop_assert!(name.as_str().bytes().all(|b| b.is_ascii_alphanumeric() || b == b' '));
            prop_assert!(!name.as_str().contains("  "));
            prop_assert_eq!(AsciiName::transliterate(name.as_str()), name.clone());
            let _ = encode(&name);
        }

        #[test]
        fn any_string_encodes_without_panicking(raw in any::<String>()) {
            let _ = code(&raw);
        }

        #[test]
        fn folded_ascii_names_are_left_as_they_are(raw in "[a-z0-9]{1,10}( [a-z0-9]{1,10}){0,3}") {
            let name = AsciiName::transliterate(&raw);
            prop_assert_eq!(name.as_str(), raw.as_str());
        }
    }
}
