//! Console passwords, hashed with argon2id (the OWASP-recommended memory-hard default) and a
//! random salt, stored as a PHC string so parameters can be raised later without a migration.

use argon2::{
    Argon2,
    password_hash::{PasswordHash, PasswordHasher, PasswordVerifier, SaltString},
};
use secrecy::{ExposeSecret, SecretString};

use super::AccessError;

/// The shortest password accepted; long passphrases beat complexity rules (NIST SP 800-63B).
pub const MIN_LEN: usize = 12;

/// Hashes a new password after checking its length.
pub fn hash(password: &SecretString) -> Result<String, AccessError> {
    let chars = password.expose_secret().chars().count();
    if !(MIN_LEN..=1024).contains(&chars) {
        return Err(AccessError::WeakPassword(MIN_LEN));
    }
    let mut salt = [0u8; 16];
    getrandom::fill(&mut salt).map_err(|e| AccessError::Random(e.to_string()))?;
    let salt = SaltString::encode_b64(&salt).map_err(|e| AccessError::Random(e.to_string()))?;
    Argon2::default()
        .hash_password(password.expose_secret().as_bytes(), &salt)
        .map(|h| h.to_string())
        .map_err(|e| AccessError::Random(e.to_string()))
}

/// Whether a password matches a stored hash; a malformed stored hash matches nothing.
pub fn verify(password: &SecretString, stored: &str) -> bool {
    PasswordHash::new(stored).is_ok_and(|parsed| {
        Argon2::default()
            .verify_password(password.expose_secret().as_bytes(), &parsed)
            .is_ok()
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_password_verifies_against_its_own_hash_only() {
        let right = SecretString::from("correct horse battery staple");
        let stored = hash(&right).unwrap();
        assert!(stored.starts_with("$argon2id$"));
        assert!(verify(&right, &stored));
        assert!(!verify(
            &SecretString::from("correct horse battery stapler"),
            &stored
        ));
        assert!(!verify(&right, "not a hash"));
    }

    #[test]
    fn short_passwords_are_refused() {
        assert!(matches!(
            hash(&SecretString::from("short")),
            Err(AccessError::WeakPassword(_))
        ));
    }
}
