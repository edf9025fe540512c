//! How ClickUp's task ids and webhook secrets look.

/// A task id's tail: `n` in base 36, zero-padded to seven digits.
pub(crate) fn radix36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    format!("{:0>7}", String::from_utf8_lossy(&out))
}

/// A webhook secret: random per run (never derived from the seed).
pub(crate) fn secret() -> String {
    let mut rng = fastrand::Rng::new();
    (0..32)
        .map(|_| char::from(b"ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"[rng.usize(..36)]))
        .collect()
}
