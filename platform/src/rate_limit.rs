//! Fixed-window counters in Redis, so that every instance counts the same attempts.

use redis::aio::ConnectionManager;

const WINDOW_SECONDS: u64 = 60;

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
