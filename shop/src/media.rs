//! Product images' files, outside `/api/v1`: served at `/media/<key>` from the media store, and swept when no
//! event names them (docs/adr/0020).
//!
//! Keys are content-addressed, so an answer never changes: it is cached by browsers for a year
//! (`immutable`), its `ETag` is the key, and the hottest files are kept in this process's memory.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use axum::Router;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use chrono::Utc;
use domain::product::ProductEvent;
use eventstore::Feed;
use eventstore::db::PgPool;
use platform::media::{self, MediaError, MediaStore};
use platform::{Problem, ProblemCode};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

/// Files kept in memory, by their total size.
const MEMORY_BYTES: u64 = 64 * 1024 * 1024;
const CACHE_CONTROL: &str = "public, max-age=31536000, immutable";

/// Serves the media store's files at `/media/{digest}/{name}`.
#[derive(Clone)]
pub struct MediaFiles {
    store: MediaStore,
    hot: moka::future::Cache<String, Bytes>,
}

impl MediaFiles {
    pub fn new(store: MediaStore) -> Self {
        Self {
            store,
            hot: moka::future::Cache::builder()
                .weigher(|_: &String, bytes: &Bytes| u32::try_from(bytes.len()).unwrap_or(u32::MAX))
                .max_capacity(MEMORY_BYTES)
                .build(),
        }
    }

    pub fn router(self) -> Router {
        let (router, _) = routes().split_for_parts();
        router.with_state(Arc::new(self))
    }
}

/// The media route with its OpenAPI docs (merged into the document by `startup::reference`).
pub(crate) fn routes() -> OpenApiRouter<Arc<MediaFiles>> {
    OpenApiRouter::new().routes(routes!(serve))
}

/// A product image's file, as the `url`s of `images` name it. Its name never changes what it holds, so it
/// is cached for a year (`immutable`); `If-None-Match` with its `ETag` answers 304.
#[utoipa::path(
    get,
    path = "/media/{digest}/{name}",
    operation_id = "get_media_file",
    tag = "catalog",
    params(
        ("digest" = String, Path, description = "The SHA-256 of the uploaded original, in hex"),
        ("name" = String, Path, description = "`original.jpg|png|webp`, `320.jpg` or `960.jpg`"),
        ("If-None-Match" = Option<String>, Header, description = "The `ETag` of a copy already held"),
    ),
    responses(
        (status = 200, description = "The file: `image/jpeg` (the copies, and JPEG originals), `image/png` or \
            `image/webp` (originals)", body = [u8], content_type = "image/jpeg",
            headers(
                ("ETag" = String, description = "The key"),
                ("Cache-Control" = String, description = "`public, max-age=31536000, immutable`"),
            )),
        (status = 304, description = "The copy held is this file"),
        (status = 404, description = "No such file", body = platform::problem::ProblemBody,
            content_type = "application/problem+json"),
        (status = 503, description = "The media store is down", body = platform::problem::ProblemBody,
            content_type = "application/problem+json"),
    )
)]
async fn serve(
    State(files): State<Arc<MediaFiles>>,
    Path((digest, name)): Path<(String, String)>,
    headers: HeaderMap,
) -> Response {
    let key = format!("{digest}/{name}");
    let (true, Some(content_type)) = (media::is_key(&key), media::content_type(&key)) else {
        return not_found();
    };
    let etag = format!("\"{digest}-{name}\"");
    let unchanged = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    // Requests for a file not in memory share one read of the store (a cold page's cards all at once).
    let read = files.hot.try_get_with(key.clone(), async {
        match files.store.get(&key).await {
            Ok(Some(file)) => Ok(file.bytes),
            Ok(None) => Err(None),
            Err(e) => Err(Some(e.to_string())),
        }
    });
    let bytes = match read.await {
        Ok(bytes) => bytes,
        Err(failure) => match failure.as_ref() {
            None => return not_found(),
            Some(e) => {
                tracing::error!(error = %e, "media store unavailable");
                return Problem::unavailable("media store").into_response();
            }
        },
    };
    let mut response = if unchanged {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        Response::new(Body::from(bytes))
    };
    let answer = response.headers_mut();
    if !unchanged {
        answer.insert(header::CONTENT_TYPE, HeaderValue::from_static(content_type));
    }
    answer.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static(CACHE_CONTROL),
    );
    if let Ok(etag) = HeaderValue::from_str(&etag) {
        answer.insert(header::ETAG, etag);
    }
    response
}

fn not_found() -> Response {
    Problem::new(
        StatusCode::NOT_FOUND,
        ProblemCode::NotFound,
        "There is no such image.",
    )
    .into_response()
}

/// What a sweep did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct Swept {
    /// Files some image names.
    pub named: usize,
    /// Files no image names, stored within the grace period (an upload may be about to name them).
    pub young: usize,
    pub deleted: Vec<String>,
}

/// Deletes the files no image of any product names, once older than `grace`. An upload writes its files
/// before its event, so a crash between the two leaves such files; so does removing an image.
///
/// The store is listed before the names are read, so a file stored and named meanwhile is either not
/// listed or named. Only keys the shop makes are touched.
pub async fn sweep(pool: &PgPool, store: &MediaStore, grace: Duration) -> anyhow::Result<Swept> {
    let listed = store.list().await?;
    let named = named_keys(pool).await?;
    let cutoff = Utc::now() - chrono::Duration::from_std(grace)?;
    let mut swept = Swept::default();
    for file in listed {
        if !media::is_key(&file.key) {
            continue;
        }
        if named.contains(&file.key) {
            swept.named += 1;
        } else if file.stored_at > cutoff {
            swept.young += 1;
        } else {
            delete(store, &file.key).await?;
            swept.deleted.push(file.key);
        }
    }
    Ok(swept)
}

async fn delete(store: &MediaStore, key: &str) -> Result<(), MediaError> {
    store.delete(key).await?;
    tracing::info!(key, "swept a media file no image names");
    Ok(())
}

/// The keys of every image some product shows, from its events.
async fn named_keys(pool: &PgPool) -> anyhow::Result<HashSet<String>> {
    let events = Feed::new(pool.clone())
        .of_types("product", &["ProductImageAdded", "ProductImageRemoved"])
        .await?;
    let mut shown = std::collections::HashMap::new();
    for event in events {
        let product = event.aggregate_id.clone();
        match serde_json::from_value::<ProductEvent>(event.payload)? {
            ProductEvent::ProductImageAdded { image, .. } => {
                shown.insert((product, image.image_id), image);
            }
            ProductEvent::ProductImageRemoved { image_id, .. } => {
                shown.remove(&(product, image_id));
            }
            _ => {}
        }
    }
    Ok(shown
        .values()
        .flat_map(|image| image.keys().map(str::to_owned).collect::<Vec<_>>())
        .collect())
}

/// Sweeps every `every`, with `grace` for files not yet named.
pub async fn sweep_now_and_then(pool: PgPool, store: MediaStore, every: Duration, grace: Duration) {
    let mut ticks = tokio::time::interval(every);
    loop {
        ticks.tick().await;
        match sweep(&pool, &store, grace).await {
            Ok(swept) if !swept.deleted.is_empty() => {
                tracing::info!(deleted = swept.deleted.len(), "media sweep");
            }
            Ok(_) => {}
            Err(e) => tracing::error!(error = %e, "media sweep failed"),
        }
    }
}
