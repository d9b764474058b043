//! Counters in Redis, so that every instance counts the same attempts. A bucket's window opens with its
//! first attempt and lasts a minute: every attempt within that minute of the first counts together, however
//! the minute falls on the clock (a window fixed to the clock's minutes would let a burst that straddles one
//! count twice as much).

use redis::aio::ConnectionManager;

const WINDOW_SECONDS: u64 = 60;

/// KEYS[1] the bucket's counter, ARGV[1] the limit (-1: none), ARGV[2] the window: counts one attempt
/// (opening the window with the first) and answers `{count, seconds left}`; past the limit the attempt is
/// taken back when ARGV[3] is 1 (a reservation refused counts nothing) and the count answered is -1.
const COUNT: &str = r"
local count = redis.call('INCR', KEYS[1])
if count == 1 then redis.call('EXPIRE', KEYS[1], ARGV[2]) end
local left = redis.call('TTL', KEYS[1])
local limit = tonumber(ARGV[1])
if limit >= 0 and count > limit then
  if ARGV[3] == '1' then redis.call('DECR', KEYS[1]) end
  return {-1, left}
end
return {count, left}
";

/// KEYS[1] the bucket's counter: one less, never below zero (the window may have closed meanwhile).
const GIVE_BACK: &str = r"
local count = tonumber(redis.call('GET', KEYS[1]) or '0')
if count > 0 then redis.call('DECR', KEYS[1]) end
return nil
";

/// One attempt counted by [`RateLimiter::reserve`].
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

    fn key(&self, bucket: &str) -> String {
        format!("{}{bucket}", self.prefix)
    }

    /// Counts one attempt in `bucket` in one step; `None` when it went past `limit` (taken back when
    /// `refused_counts` is false), with the seconds left in the window.
    async fn count_one(
        &self,
        key: &str,
        limit: Option<u64>,
        refused_counts: bool,
    ) -> Result<(Option<u64>, u64), RateError> {
        let mut redis = self.redis.clone();
        let (count, left): (i64, i64) = redis::Script::new(COUNT)
            .key(key)
            .arg(limit.map_or(-1, |l| l.min(i64::MAX as u64) as i64))
            .arg(WINDOW_SECONDS)
            .arg(if refused_counts { "0" } else { "1" })
            .invoke_async(&mut redis)
            .await?;
        let left = u64::try_from(left).unwrap_or(WINDOW_SECONDS).max(1);
        Ok((u64::try_from(count).ok(), left))
    }

    /// Takes one of `limit` slots of `bucket`, in one step (a Redis script: increment, and undo the
    /// increment when it went past the limit), so that concurrent attempts cannot all pass a check made
    /// before any of them is counted. Refused slots are not counted. Give the slot back with
    /// [`RateLimiter::give_back`] when the attempt should not count (a login that succeeded).
    pub async fn reserve(&self, bucket: &str, limit: u64) -> Result<Slot, RateError> {
        let key = self.key(bucket);
        match self.count_one(&key, Some(limit), false).await? {
            (Some(count), _) => Ok(Slot { key, count }),
            (None, retry_after) => Err(RateError::Limited(Limited { retry_after })),
        }
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

    /// How many `bucket` counted in its open window (0 when none is open).
    pub async fn count(&self, bucket: &str) -> Result<u64, RateError> {
        let mut redis = self.redis.clone();
        let count: Option<u64> = redis::cmd("GET")
            .arg(self.key(bucket))
            .query_async(&mut redis)
            .await?;
        Ok(count.unwrap_or(0))
    }

    /// Counts one hit in `bucket`; refuses when the count goes past `limit` (the refused hit counts too).
    pub async fn hit(&self, bucket: &str, limit: u64) -> Result<(), RateError> {
        match self.count_one(&self.key(bucket), Some(limit), true).await? {
            (Some(_), _) => Ok(()),
            (None, retry_after) => Err(RateError::Limited(Limited { retry_after })),
        }
    }

    /// Counts one hit in `bucket`, with no limit.
    pub async fn record(&self, bucket: &str) -> Result<(), RateError> {
        self.count_one(&self.key(bucket), None, true).await?;
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
