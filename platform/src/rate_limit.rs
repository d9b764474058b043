//! Fixed-window counters in Redis, so that every instance counts the same attempts.

use redis::aio::ConnectionManager;

const WINDOW_SECONDS: u64 = 60;

/// KEYS[1] the window's counter, ARGV[1] the limit, ARGV[2] its time to live: the new count, or -1 (and
/// nothing counted) when the limit was already reached.
const RESERVE: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
if count > tonumber(ARGV[1]) then
  redis.call('DECR', KEYS[1])
  return -1
end
return count
";

/// KEYS[1] the window's counter: one less, never below zero (the window may have expired meanwhile).
const GIVE_BACK: &str = r"
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return nil
";

/// One attempt counted in a window by [`RateLimiter::reserve`].
#[derive(Debug)]
pub struct Slot {
    key: String,
    /// The window's count with this attempt.
    pub count: u64,
}

#[derive(Clone)]
pub struct RateLimiter {
    redis: ConnectionManager,
    prefix: String,
}

/// The limit is reached; retry after this many seconds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limited {
    pub retry_after: u64,
}

impl RateLimiter {
    pub fn new(redis: ConnectionManager, prefix: &str) -> Self {
        Self {
            redis,
            prefix: format!("{prefix}rl:"),
        }
    }

    fn key(&self, bucket: &str, now_secs: u64) -> (String, u64) {
        let window = now_secs / WINDOW_SECONDS;
        let retry_after = WINDOW_SECONDS - now_secs % WINDOW_SECONDS;
        (format!("{}{bucket}:{window}", self.prefix), retry_after)
    }

    fn now_secs() -> u64 {
        chrono::Utc::now().timestamp().max(0) as u64
    }

    /// Refuses when `bucket` already counted `limit` in this window (does not count).
    pub async fn check(&self, bucket: &str, limit: u64) -> Result<(), RateError> {
        let (key, retry_after) = self.key(bucket, Self::now_secs());
        let mut redis = self.redis.clone();
        let count: Option<u64> = redis::cmd("GET").arg(&key).query_async(&mut redis).await?;
        match count {
            Some(count) if count >= limit => Err(RateError::Limited(Limited { retry_after })),
            _ => Ok(()),
        }
    }

    /// Takes one of `limit` slots of `bucket` in this window, in one step (a Redis script: increment, and
    /// undo the increment when it went past the limit), so that concurrent attempts cannot all pass a check
    /// made before any of them is counted. Refused slots are not counted. Give the slot back with
    /// [`RateLimiter::give_back`] when the attempt should not count (a login that succeeded).
    pub async fn reserve(&self, bucket: &str, limit: u64) -> Result<Slot, RateError> {
        let (key, retry_after) = self.key(bucket, Self::now_secs());
        let mut redis = self.redis.clone();
        let taken: i64 = redis::Script::new(RESERVE)
            .key(&key)
            .arg(limit)
            .arg(WINDOW_SECONDS + 1)
            .invoke_async(&mut redis)
            .await?;
        if taken < 0 {
            return Err(RateError::Limited(Limited { retry_after }));
        }
        Ok(Slot {
            key,
            count: taken as u64,
        })
    }

    /// Gives a reserved slot back to its window.
    pub async fn give_back(&self, slot: Slot) -> Result<(), RateError> {
        let mut redis = self.redis.clone();
        let () = redis::Script::new(GIVE_BACK)
            .key(&slot.key)
            .invoke_async(&mut redis)
            .await?;
        Ok(())
    }

    /// How many `bucket` counted in this window so far.
    pub async fn count(&self, bucket: &str) -> Result<u64, RateError> {
        let (key, _) = self.key(bucket, Self::now_secs());
        let mut redis = self.redis.clone();
        let count: Option<u64> = redis::cmd("GET").arg(&key).query_async(&mut redis).await?;
        Ok(count.unwrap_or(0))
    }

    /// Counts one hit in `bucket`; refuses when the count goes past `limit`.
    pub async fn hit(&self, bucket: &str, limit: u64) -> Result<(), RateError> {
        let (key, retry_after) = self.key(bucket, Self::now_secs());
        let mut redis = self.redis.clone();
        let (count,): (u64,) = redis::pipe()
            .atomic()
            .incr(&key, 1)
            .expire(&key, WINDOW_SECONDS as i64 + 1)
            .ignore()
            .query_async(&mut redis)
            .await?;
        if count > limit {
            return Err(RateError::Limited(Limited { retry_after }));
        }
        Ok(())
    }
}

#[derive(Debug, thiserror::Error)]
pub enum RateError {
    #[error("rate limited")]
    Limited(Limited),
    #[error("the rate-limit store cannot be reached")]
    Unavailable(#[from] redis::RedisError),
}
