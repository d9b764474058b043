//! Passwords hashed with argon2id. Hashing takes tens of milliseconds of CPU on purpose, so it runs on the
//! blocking pool, never on the async workers.

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};

pub async fn hash(password: String) -> Result<String, argon2::password_hash::Error> {
    tokio::task::spawn_blocking(move || {
        let salt = SaltString::generate(&mut OsRng);
        Argon2::default()
            .hash_password(password.as_bytes(), &salt)
            .map(|h| h.to_string())
    })
    .await
    .unwrap_or(Err(argon2::password_hash::Error::Crypto))
}

/// Checks `password` against `hash`. With no hash (unknown email) it still does the work of one check, so
/// that the answer takes as long for unknown emails as for wrong passwords.
pub async fn verify(password: String, hash: Option<String>) -> bool {
    tokio::task::spawn_blocking(move || {
        let stored = hash.as_deref().unwrap_or(DUMMY_HASH);
        let Ok(parsed) = PasswordHash::new(stored) else {
            return false;
        };
        let matches = Argon2::default()
            .verify_password(password.as_bytes(), &parsed)
            .is_ok();
        matches && hash.is_some()
    })
    .await
    .unwrap_or(false)
}

/// argon2id of a random password, with the default parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Ry2Zr9m8Zc1f1i7ZyDq0r6n4m4v7QkB0fD8Xv0cS3Y";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_should_accept_the_right_password_and_refuse_a_wrong_one() {
        let h = hash("correct horse".to_owned()).await.unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(verify("correct horse".to_owned(), Some(h.clone())).await);
        assert!(!verify("wrong horse".to_owned(), Some(h)).await);
    }

    #[tokio::test]
    async fn it_should_refuse_any_password_without_a_hash() {
        assert!(!verify("anything".to_owned(), None).await);
    }
}
