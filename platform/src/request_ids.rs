//! Request and correlation ids from the caller are kept only when they are short and plain: they go into
//! every log line and into event metadata, which is append-only and hash-chained.

use axum::extract::Request;
use axum::middleware::Next;
use axum::response::Response;

/// The headers whose ids a caller may choose.
const CALLER_IDS: [&str; 2] = ["x-request-id", "x-correlation-id"];
/// At most this many characters.
const MAX_ID_LEN: usize = 128;

/// 1 to 128 characters of `[A-Za-z0-9._:-]`.
pub fn is_acceptable_id(id: &str) -> bool {
    (1..=MAX_ID_LEN).contains(&id.len())
        && id
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'_' | b':' | b'-'))
}

/// Drops a caller's request or correlation id that is not acceptable, so that a fresh one replaces it (the
/// request id layer makes one; the correlation id then falls back to the request id). Runs before both.
pub async fn drop_unacceptable_ids(mut request: Request, next: Next) -> Response {
    for name in CALLER_IDS {
        let acceptable = request
            .headers()
            .get_all(name)
            .iter()
            .all(|value| value.to_str().is_ok_and(is_acceptable_id));
        let several = request.headers().get_all(name).iter().count() > 1;
        if !acceptable || several {
            request.headers_mut().remove(name);
        }
    }
    next.run(request).await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn it_should_accept_short_plain_ids_only() {
        for id in [
            "abc",
            "0193a1b2-c3d4-7e5f-8a9b-0c1d2e3f4a5b",
            "trace:span.1_x",
            &"a".repeat(128),
        ] {
            assert!(is_acceptable_id(id), "{id}");
        }
        for id in [
            "",
            &"a".repeat(129),
            "with space",
            "semi;colon",
            "é",
            "new\nline",
        ] {
            assert!(!is_acceptable_id(id), "{id:?}");
        }
    }
}
