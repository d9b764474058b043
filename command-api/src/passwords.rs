//! Passwords hashed with argon2id. Hashing takes tens of milliseconds of CPU and 19 MiB of memory on
//! purpose, so it runs on the blocking pool, never on the async workers, and only so many at once: a burst
//! of logins past the cap is answered 429 at once instead of queueing hashes in memory.

use std::sync::Arc;

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{PasswordHasher, SaltString};
use argon2::{Argon2, PasswordHash, PasswordVerifier};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The password hashes this process runs at once; cheap to clone.
#[derive(Clone)]
pub struct Hashing {
    permits: Arc<Semaphore>,
}

/// Every permitted hash is running: try again in a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy;

impl Hashing {
    pub fn new(at_once: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(at_once.max(1))),
        }
    }

    /// A permit for one hash, or [`Busy`] at once: a request never waits for one.
    fn permit(&self) -> Result<OwnedSemaphorePermit, Busy> {
        self.permits.clone().try_acquire_owned().map_err(|_| Busy)
    }

    /// Hashes a new password; `Ok(Err(_))` when argon2 fails.
    pub async fn hash(
        &self,
        password: String,
    ) -> Result<Result<String, argon2::password_hash::Error>, Busy> {
        let permit = self.permit()?;
        Ok(tokio::task::spawn_blocking(move || {
            // Held until the hash is done, even when the request that asked is gone.
            let _permit = permit;
            let salt = SaltString::generate(&mut OsRng);
            Argon2::default()
                .hash_password(password.as_bytes(), &salt)
                .map(|h| h.to_string())
        })
        .await
        .unwrap_or(Err(argon2::password_hash::Error::Crypto)))
    }

    /// Checks `password` against `hash`. With no hash (unknown email) it still does the work of one check,
    /// so that the answer takes as long for unknown emails as for wrong passwords.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, Busy> {
        let permit = self.permit()?;
        Ok(tokio::task::spawn_blocking(move || {
            let _permit = permit;
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
        .unwrap_or(false))
    }
}

/// argon2id of a random password, with the default parameters.
const DUMMY_HASH: &str = "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHRzb21lc2FsdA$2Ry2Zr9m8Zc1f1i7ZyDq0r6n4m4v7QkB0fD8Xv0cS3Y";

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn it_should_accept_the_right_password_and_refuse_a_wrong_one() {
        let hashing = Hashing::new(1);
        let h = hashing
            .hash("correct horse".to_owned())
            .await
            .unwrap()
            .unwrap();
        assert!(h.starts_with("$argon2id$"));
        assert!(
            hashing
                .verify("correct horse".to_owned(), Some(h.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hashing
                .verify("wrong horse".to_owned(), Some(h))
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn it_should_refuse_any_password_without_a_hash() {
        assert!(
            !Hashing::new(1)
                .verify("anything".to_owned(), None)
                .await
                .unwrap()
        );
    }

    #[tokio::test]
    async fn it_should_answer_busy_at_once_when_every_permit_is_taken() {
        let hashing = Hashing::new(1);
        let held = hashing.permit().unwrap();
        assert_eq!(hashing.verify("x".to_owned(), None).await, Err(Busy));
        assert_eq!(hashing.hash("x".to_owned()).await, Err(Busy));
        drop(held);
        assert!(hashing.verify("x".to_owned(), None).await.is_ok());
    }
}
