//! `Idempotency-Key` on every `POST` but the login: the first response to a key is kept for 24 hours and
//! replayed to retries with the same body; the same key with another body is refused (422). A login's answer
//! carries a token, which is never stored: a retried login checks the password again.
//!
//! The request holds its key by a lease (a request extension, which `RequestMeta` hands to the bus). Its
//! events commit together with the answer it gives, so a crash never strands the key: a retry either gets
//! that answer or, once the lease has lapsed, runs afresh (docs/adr/0012).

use axum::body::{Body, Bytes, to_bytes};
use axum::extract::{Request, State};
use axum::http::{Extensions, HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::middleware::Next;
use axum::response::{IntoResponse, Response};
use eventstore::{IdempotencyClaim, Lease, StoredResponse};

use crate::extract::{ClientAddr, MAX_KEY_LEN, committed_response};
use crate::images::UPLOAD_BODY_LIMIT;
use platform::auth::Credential;
use platform::{Problem, ProblemCode};
use serde_json::{Map, Value};
use sha2::{Digest, Sha256};

use crate::state::CommandState;

const BODY_LIMIT: usize = 64 * 1024;
/// Response headers worth replaying.
const KEPT_HEADERS: [HeaderName; 3] = [header::CONTENT_TYPE, header::ETAG, header::LOCATION];

pub async fn replay_or_record(
    State(state): State<CommandState>,
    request: Request,
    next: Next,
) -> Response {
    if request.method() != Method::POST {
        return next.run(request).await;
    }
    let Some(key) = request.headers().get("idempotency-key") else {
        return next.run(request).await;
    };
    let key = match key.to_str() {
        Ok(k) if !k.is_empty() && k.len() <= MAX_KEY_LEN => k.to_owned(),
        _ => {
            return Problem::new(
                StatusCode::BAD_REQUEST,
                ProblemCode::InvalidIdempotencyKey,
                "Idempotency-Key must be 1 to 255 visible ASCII characters.",
            )
            .into_response();
        }
    };
    // Not the request itself across the await: its body is not `Sync`.
    let scope = scope_of(
        &state,
        request.method(),
        request.headers(),
        request.extensions(),
    )
    .await;
    let (parts, body) = request.into_parts();
    // Only a signed-in caller's form (an image upload) may be larger; the route's own limit still holds.
    let form = parts
        .headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.starts_with("multipart/form-data"));
    let (limit, too_large) = if form && scope.starts_with("user:") {
        (UPLOAD_BODY_LIMIT, "The request body is larger than 5 MB.")
    } else {
        (BODY_LIMIT, "The request body is larger than 64 KiB.")
    };
    let Ok(body) = to_bytes(body, limit).await else {
        return Problem::new(
            StatusCode::PAYLOAD_TOO_LARGE,
            ProblemCode::PayloadTooLarge,
            too_large,
        )
        .into_response();
    };
    let request_hash = Sha256::new()
        .chain_update(parts.method.as_str())
        .chain_update([0])
        .chain_update(parts.uri.path())
        .chain_update([0])
        .chain_update(&body)
        .finalize();

    let lease = match state.idempotency.claim(&scope, &key, &request_hash).await {
        Ok(IdempotencyClaim::Run(lease)) => lease,
        Ok(IdempotencyClaim::Replay(stored)) => return replay(stored),
        Ok(IdempotencyClaim::Committed(answer)) => {
            let mut response = committed_response(answer);
            response
                .headers_mut()
                .insert("idempotent-replayed", HeaderValue::from_static("true"));
            return response;
        }
        Ok(IdempotencyClaim::Mismatch) => {
            return Problem::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                ProblemCode::IdempotencyKeyReused,
                "This Idempotency-Key was already used with a different request.",
            )
            .into_response();
        }
        Ok(IdempotencyClaim::InFlight { retry_after }) => {
            return Problem::new(
                StatusCode::CONFLICT,
                ProblemCode::IdempotencyKeyInFlight,
                "A request with this Idempotency-Key is still being processed; retry shortly.",
            )
            .with_retry_after(retry_after.as_secs_f64().ceil().max(1.0) as u64)
            .into_response();
        }
        Err(e) => {
            tracing::error!(error = %e, "idempotency store unavailable");
            return Problem::unavailable("database").into_response();
        }
    };

    let mut request = Request::from_parts(parts, Body::from(body));
    request.extensions_mut().insert(lease.clone());
    let response = hold_while_running(&state, &lease, next.run(request)).await;
    if response.status().is_server_error() {
        // Worth retrying with the same key: forget it, unless its command committed.
        if let Err(e) = state.idempotency.abandon(&lease).await {
            tracing::error!(error = %e, "could not release an idempotency key");
        }
        return response;
    }
    let (parts, body) = response.into_parts();
    let body = to_bytes(body, usize::MAX)
        .await
        .unwrap_or_else(|_| Bytes::new());
    let headers: Map<String, Value> = KEPT_HEADERS
        .iter()
        .filter_map(|name| {
            let value = parts.headers.get(name)?.to_str().ok()?;
            Some((name.as_str().to_owned(), Value::from(value)))
        })
        .collect();
    let stored = StoredResponse {
        status: parts.status.as_u16(),
        headers: Value::Object(headers),
        body: body.to_vec(),
    };
    if let Err(e) = state.idempotency.complete(&lease, &stored).await {
        // The command ran; the answer stands even if the record could not be kept.
        tracing::error!(error = %e, "could not record an idempotent response");
    }
    Response::from_parts(parts, Body::from(body))
}

/// Runs the request, renewing its lease every third of the lease's time, so that a slow request keeps its key
/// and only the lease of a process that died lapses. If the process dies, renewals stop with it.
async fn hold_while_running(
    state: &CommandState,
    lease: &Lease,
    request: impl Future<Output = Response>,
) -> Response {
    let mut renewals = tokio::time::interval(state.idempotency.lease() / 3);
    renewals.tick().await;
    let mut request = std::pin::pin!(request);
    loop {
        tokio::select! {
            response = &mut request => return response,
            _ = renewals.tick() => match state.idempotency.renew(lease).await {
                Ok(true) => {}
                // Taken over or answered: the commit's fence decides what this request may still do.
                Ok(false) => {}
                Err(e) => tracing::warn!(error = %e, "could not renew an idempotency lease"),
            },
        }
    }
}

/// Keys are per user: the token's subject once the token is fully checked (deny-list included), or the
/// client address for anonymous requests. A token that does not pass is anonymous: it never reaches the
/// answers kept for its subject.
async fn scope_of(
    state: &CommandState,
    method: &Method,
    headers: &HeaderMap,
    extensions: &Extensions,
) -> String {
    if Credential::of(headers).is_some()
        && let Ok(user) = state.auth.authenticate(method, headers).await
    {
        return format!("user:{}", user.user_id);
    }
    let ClientAddr(client) = ClientAddr::of(extensions, headers);
    format!("anonymous:{client}")
}

fn replay(stored: StoredResponse) -> Response {
    let status = StatusCode::from_u16(stored.status).unwrap_or(StatusCode::OK);
    let mut response = (status, stored.body).into_response();
    if let Value::Object(headers) = stored.headers {
        for (name, value) in headers {
            if let (Ok(name), Some(Ok(value))) = (
                HeaderName::try_from(name),
                value.as_str().map(HeaderValue::from_str),
            ) {
                response.headers_mut().insert(name, value);
            }
        }
    }
    response
        .headers_mut()
        .insert("idempotent-replayed", HeaderValue::from_static("true"));
    response
}
