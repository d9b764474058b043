//! Passwords hashed with argon2id. Hashing takes tens of milliseconds of CPU and 19 MiB of memory on
//! purpose, so it runs on the blocking pool, never on the async workers, and only so many at once: a burst
//! of logins past the cap is answered 429 at once instead of queueing hashes in memory. Each running hash
//! works in memory taken from a pool and given back: at most as many 19 MiB buffers exist as hashes may run,
//! and none is freed and allocated again (the allocator kept freed ones per thread: a flood of wrong logins
//! grew the process to over 900 MB with a cap of four).

use std::sync::{Arc, Mutex};

use argon2::password_hash::rand_core::OsRng;
use argon2::password_hash::{Output, ParamsString, SaltString};
use argon2::{Algorithm, Argon2, Block, Params, PasswordHash, Version};
use tokio::sync::{OwnedSemaphorePermit, Semaphore};

/// The password hashes this process runs at once; cheap to clone.
#[derive(Clone)]
pub struct Hashing {
    permits: Arc<Semaphore>,
    /// Working memory of finished hashes, for the next ones: never more buffers than permits.
    memory: Arc<Mutex<Vec<Vec<Block>>>>,
}

/// Every permitted hash is running: try again in a moment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[error("too many password checks at once")]
pub struct Busy;

/// A permit to hash, with the memory to hash in; the memory goes back to the pool when it is dropped.
struct Slot {
    _permit: OwnedSemaphorePermit,
    memory: Vec<Block>,
    pool: Arc<Mutex<Vec<Vec<Block>>>>,
}

impl Slot {
    /// `params`' hash of `password` with `salt`, into `out`.
    fn hash_into(
        &mut self,
        argon: &Argon2<'_>,
        params: &Params,
        password: &[u8],
        salt: &[u8],
        out: &mut [u8],
    ) -> argon2::Result<()> {
        if self.memory.len() != params.block_count() {
            self.memory.resize(params.block_count(), Block::default());
        }
        argon.hash_password_into_with_memory(password, salt, out, &mut self.memory[..])
    }
}

impl Drop for Slot {
    fn drop(&mut self) {
        let memory = std::mem::take(&mut self.memory);
        self.pool
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .push(memory);
    }
}

impl Hashing {
    pub fn new(at_once: usize) -> Self {
        Self {
            permits: Arc::new(Semaphore::new(at_once.max(1))),
            memory: Arc::default(),
        }
    }

    /// A permit for one hash, with its memory, or [`Busy`] at once: a request never waits for one.
    fn slot(&self) -> Result<Slot, Busy> {
        let permit = self.permits.clone().try_acquire_owned().map_err(|_| Busy)?;
        let memory = self
            .memory
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .pop()
            .unwrap_or_default();
        Ok(Slot {
            _permit: permit,
            memory,
            pool: self.memory.clone(),
        })
    }

    /// Hashes a new password; `Ok(Err(_))` when argon2 fails.
    pub async fn hash(
        &self,
        password: String,
    ) -> Result<Result<String, argon2::password_hash::Error>, Busy> {
        let mut slot = self.slot()?;
        // The slot moves into the task: held until the hash is done, even when the request that asked is gone.
        Ok(tokio::task::spawn_blocking(move || {
            let salt = SaltString::generate(&mut OsRng);
            let argon = Argon2::default();
            let params = argon.params().clone();
            let mut salt_bytes = [0u8; 64];
            let salt_bytes = salt.as_salt().decode_b64(&mut salt_bytes)?;
            let output = Output::init_with(Params::DEFAULT_OUTPUT_LEN, |out| {
                Ok(slot.hash_into(&argon, &params, password.as_bytes(), salt_bytes, out)?)
            })?;
            Ok(PasswordHash {
                algorithm: Algorithm::Argon2id.ident(),
                version: Some(Version::V0x13.into()),
                params: ParamsString::try_from(&params)?,
                salt: Some(salt.as_salt()),
                hash: Some(output),
            }
            .to_string())
        })
        .await
        .unwrap_or(Err(argon2::password_hash::Error::Crypto)))
    }

    /// Checks `password` against `hash`. With no hash (unknown email) it still does the work of one check,
    /// so that the answer takes as long for unknown emails as for wrong passwords.
    pub async fn verify(&self, password: String, hash: Option<String>) -> Result<bool, Busy> {
        let mut slot = self.slot()?;
        let checked = tokio::task::spawn_blocking(move || {
            let stored = hash.as_deref().unwrap_or(DUMMY_HASH);
            match check(&mut slot, password.as_bytes(), stored) {
                Ok(matches) => matches && hash.is_some(),
                Err(error) => {
                    // A stored hash that cannot be read locks its account out until the password is reset:
                    // refused like a wrong password, and told to the operator.
                    if hash.is_some() {
                        tracing::error!(%error, "a stored password hash cannot be read; refusing the login");
                    }
                    false
                }
            }
        })
        .await;
        Ok(checked.unwrap_or_else(|error| {
            tracing::error!(%error, "the password check did not finish; refusing the login");
            false
        }))
    }
}

/// Whether `password` hashes to the PHC string `stored`, with the parameters it names; `Output`'s equality is
/// constant-time.
fn check(
    slot: &mut Slot,
    password: &[u8],
    stored: &str,
) -> Result<bool, argon2::password_hash::Error> {
    let parsed = PasswordHash::new(stored)?;
    let expected = parsed.hash.ok_or(argon2::password_hash::Error::Crypto)?;
    let salt = parsed.salt.ok_or(argon2::password_hash::Error::Crypto)?;
    let params = Params::try_from(&parsed)?;
    let algorithm = Algorithm::try_from(parsed.algorithm)?;
    let version = parsed
        .version
        .map(Version::try_from)
        .transpose()?
        .unwrap_or_default();
    let argon = Argon2::new(algorithm, version, params.clone());
    let mut salt_bytes = [0u8; 64];
    let salt_bytes = salt.decode_b64(&mut salt_bytes)?;
    let computed = Output::init_with(expected.len(), |out| {
        Ok(slot.hash_into(&argon, &params, password, salt_bytes, out)?)
    })?;
    Ok(computed == expected)
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
    async fn it_should_refuse_every_password_against_a_stored_hash_it_cannot_read() {
        let hashing = Hashing::new(1);
        for unreadable in [
            "",
            "not a hash",
            "$argon2id$v=19$m=19456,t=2,p=1$c29tZXNhbHQ",
        ] {
            assert!(
                !hashing
                    .verify("anything".to_owned(), Some(unreadable.to_owned()))
                    .await
                    .unwrap(),
                "{unreadable:?}"
            );
        }
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
        let held = hashing.slot().unwrap();
        assert_eq!(hashing.verify("x".to_owned(), None).await, Err(Busy));
        assert_eq!(hashing.hash("x".to_owned()).await, Err(Busy));
        drop(held);
        assert!(hashing.verify("x".to_owned(), None).await.is_ok());
    }

    #[tokio::test]
    async fn it_should_agree_with_argon2s_own_hasher_both_ways() {
        use argon2::password_hash::{PasswordHasher, PasswordVerifier};
        let theirs = Argon2::default()
            .hash_password(b"correct horse", &SaltString::generate(&mut OsRng))
            .unwrap()
            .to_string();
        let hashing = Hashing::new(1);
        assert!(
            hashing
                .verify("correct horse".to_owned(), Some(theirs.clone()))
                .await
                .unwrap()
        );
        assert!(
            !hashing
                .verify("correct horsf".to_owned(), Some(theirs))
                .await
                .unwrap()
        );
        let ours = hashing
            .hash("battery staple".to_owned())
            .await
            .unwrap()
            .unwrap();
        let parsed = PasswordHash::new(&ours).unwrap();
        assert!(
            Argon2::default()
                .verify_password(b"battery staple", &parsed)
                .is_ok()
        );
    }

    #[tokio::test]
    async fn it_should_keep_no_more_working_memory_than_hashes_may_run() {
        let hashing = Hashing::new(2);
        let held = (hashing.slot().unwrap(), hashing.slot().unwrap());
        assert_eq!(hashing.verify("x".to_owned(), None).await, Err(Busy));
        drop(held);
        for _ in 0..3 {
            hashing.verify("x".to_owned(), None).await.unwrap();
        }
        let (a, b) = tokio::join!(
            hashing.verify("x".to_owned(), None),
            hashing.verify("y".to_owned(), None)
        );
        assert!(a.is_ok() && b.is_ok());
        let pool = hashing.memory.lock().unwrap();
        assert_eq!(
            pool.len(),
            2,
            "one buffer per permit, kept for the next hashes"
        );
        assert!(
            pool.iter()
                .all(|m| m.len() == Params::default().block_count())
        );
    }
}
