//! Personal API tokens: 256 random bits shown once, stored only as their SHA-256. A fast hash is
//! right here (unlike passwords): the secret has full entropy, so nothing can be guessed from
//! the hash, and every request can afford to compute it.

use base64::{Engine, engine::general_purpose::URL_SAFE_NO_PAD};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::AccessError;

/// Marks a clientsync token in logs, secret scanners and shell history.
const SCHEME: &str = "cs_";

/// A freshly issued token: the secret (shown to its owner once) and what is stored.
pub struct Issued {
    /// The whole token, for the owner's eyes only.
    pub secret: SecretString,
    /// SHA-256 of the token, hex: the only thing stored.
    pub hash: String,
    /// The first characters, so an operator can tell their tokens apart in a list.
    pub prefix: String,
}

/// Draws a new token from the operating system's random source.
pub fn issue() -> Result<Issued, AccessError> {
    let mut bytes = [0u8; 32];
    getrandom::fill(&mut bytes).map_err(|e| AccessError::Random(e.to_string()))?;
    let token = format!("{SCHEME}{}", URL_SAFE_NO_PAD.encode(bytes));
    Ok(Issued {
        hash: hash(&token),
        prefix: token.chars().take(SCHEME.len() + 6).collect(),
        secret: SecretString::from(token),
    })
}

/// The stored form of a presented token.
pub fn hash(token: &str) -> String {
    hex::encode(Sha256::digest(token.as_bytes()))
}

/// Compares two stored hashes without leaking where they differ.
pub fn same(a: &str, b: &str) -> bool {
    bool::from(a.as_bytes().ct_eq(b.as_bytes()))
}

/// Whether a presented string could be one of our tokens at all (cheap refusal before a lookup).
pub fn plausible(token: &SecretString) -> bool {
    let t = token.expose_secret();
    t.starts_with(SCHEME) && t.len() == SCHEME.len() + 43
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_token_is_random_prefixed_and_stored_only_as_its_hash() {
        let a = issue().unwrap();
        let b = issue().unwrap();
        assert_ne!(a.secret.expose_secret(), b.secret.expose_secret());
        assert!(plausible(&a.secret));
        assert_eq!(a.hash, hash(a.secret.expose_secret()));
        assert!(!a.hash.contains(&a.secret.expose_secret()[3..]));
        assert!(a.secret.expose_secret().starts_with(&a.prefix));
        assert!(same(&a.hash, &a.hash) && !same(&a.hash, &b.hash));
    }

    #[test]
    fn strings_of_the_wrong_shape_are_not_tokens() {
        assert!(!plausible(&SecretString::from("hunter2")));
        assert!(!plausible(&SecretString::from(format!("cs_{}", "a".repeat(10)))));
    }
}
