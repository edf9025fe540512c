//! Text that has broken parsers before, for property tests: anything Unicode, and strings
//! biased towards what real names and pasted values bring (letters outside ASCII that do not
//! decompose, combining marks, emoji sequences, bidi controls, separators the parsers look for).

use proptest::prelude::*;

/// Pieces that are rare in `any::<String>()` but common in client data, or known to trip
/// byte-offset arithmetic.
const PIECES: &[&str] = &[
    "Ø",
    "ø",
    "Æ",
    "æ",
    "Œ",
    "œ",
    "Ł",
    "ł",
    "ß",
    "ẞ",
    "Đ",
    "đ",
    "Þ",
    "þ",
    "Ð",
    "ð",
    "ı",
    "İ",
    "Ñ",
    "ñ",
    "é",
    "e\u{301}",
    "a\u{308}\u{323}",
    "\u{301}",
    "\u{327}",
    "\u{20DD}",
    "ǅ",
    "ﬁ",
    "Ｓ",
    "ｏ",
    "²",
    "Σ",
    "ς",
    "漢",
    "한",
    "क्ष",
    "ع",
    "\u{202E}",
    "\u{200D}",
    "\u{FE0F}",
    "\u{FEFF}",
    "\u{0}",
    "😀",
    "👩\u{200D}👩\u{200D}👧",
    "🇪🇸",
    "@",
    ".",
    "-",
    "+",
    "/",
    ",",
    " ",
    "\t",
    "\n",
    "\u{A0}",
    "\u{3000}",
    "S",
    "s",
    "a",
    "c",
    "h",
    "w",
    "z",
    "0",
    "1",
    "9",
    "19",
    "2026-12-02",
    "+34",
    "gmail.com",
    "S.L.",
];

/// Strings made mostly of [`PIECES`], with any character mixed in.
pub fn hostile() -> impl Strategy<Value = String> {
    let piece = prop_oneof![
        4 => proptest::sample::select(PIECES).prop_map(str::to_owned),
        1 => any::<char>().prop_map(String::from),
    ];
    proptest::collection::vec(piece, 0..24).prop_map(|pieces| pieces.concat())
}

/// Either any Unicode string or a hostile one.
pub fn text() -> impl Strategy<Value = String> {
    prop_oneof![any::<String>(), hostile()]
}
