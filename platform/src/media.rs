//! The media store: product images' files, in a local directory or any S3-compatible store, through
//! `object_store` (docs/adr/0020). Keys are content-addressed (`<sha256 of the original>/<name>`), so a key
//! never changes what it names and can be served as immutable.

use std::path::PathBuf;
use std::sync::Arc;

use axum::body::Bytes;
use chrono::{DateTime, Utc};
use futures::TryStreamExt;
use object_store::aws::AmazonS3Builder;
use object_store::local::LocalFileSystem;
use object_store::path::Path;
use object_store::prefix::PrefixStore;
use object_store::{ObjectStore, ObjectStoreExt, PutPayload};
use sha2::{Digest, Sha256};

use crate::secret::Secret;

/// Where the files live, from `SHOP_MEDIA_URL`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MediaLocation {
    /// `file://<dir>`: a directory, created when missing.
    Directory(PathBuf),
    /// `s3://<bucket>[/<prefix>]`, with the `AWS_*` settings.
    S3(S3Location),
}

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct S3Location {
    pub bucket: String,
    pub prefix: String,
    /// Another server than AWS (`AWS_ENDPOINT_URL`), e.g. MinIO or moto.
    pub endpoint: Option<String>,
    pub region: String,
    pub access_key_id: String,
    pub secret_access_key: Secret,
}

impl MediaLocation {
    /// Reads `SHOP_MEDIA_URL`'s value; `aws` looks up the `AWS_*` settings an S3 location needs.
    pub fn parse(url: &str, aws: impl Fn(&str) -> Option<String>) -> Result<Self, String> {
        if let Some(dir) = url.strip_prefix("file://") {
            if dir.is_empty() {
                return Err("file:// needs a directory".to_owned());
            }
            return Ok(Self::Directory(PathBuf::from(dir)));
        }
        let Some(rest) = url.strip_prefix("s3://") else {
            return Err("must start with file:// or s3://".to_owned());
        };
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err("s3:// needs a bucket".to_owned());
        }
        // Without keys object_store would ask the instance metadata address, and hang outside AWS.
        let (Some(access_key_id), Some(secret)) =
            (aws("AWS_ACCESS_KEY_ID"), aws("AWS_SECRET_ACCESS_KEY"))
        else {
            return Err("s3:// needs AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY".to_owned());
        };
        Ok(Self::S3(S3Location {
            bucket: bucket.to_owned(),
            prefix: prefix.trim_matches('/').to_owned(),
            endpoint: aws("AWS_ENDPOINT_URL"),
            region: aws("AWS_REGION").unwrap_or_else(|| "us-east-1".to_owned()),
            access_key_id,
            secret_access_key: Secret::new(secret),
        }))
    }
}

#[derive(Debug, thiserror::Error)]
pub enum MediaError {
    #[error("media store: {0}")]
    Store(#[from] object_store::Error),
    #[error("media directory {0}: {1}")]
    Directory(PathBuf, std::io::Error),
    #[error("not a media key: {0:?}")]
    InvalidKey(String),
}

/// A media file: its bytes and when it was stored.
#[derive(Debug, Clone)]
pub struct MediaFile {
    pub bytes: Bytes,
    pub stored_at: DateTime<Utc>,
}

/// A stored key and when it was written, as a listing sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Listed {
    pub key: String,
    pub stored_at: DateTime<Utc>,
}

#[derive(Clone)]
pub struct MediaStore {
    store: Arc<dyn ObjectStore>,
}

impl std::fmt::Debug for MediaStore {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "MediaStore({})", self.store)
    }
}

impl MediaStore {
    pub fn open(location: &MediaLocation) -> Result<Self, MediaError> {
        let store: Arc<dyn ObjectStore> = match location {
            MediaLocation::Directory(dir) => {
                std::fs::create_dir_all(dir).map_err(|e| MediaError::Directory(dir.clone(), e))?;
                Arc::new(LocalFileSystem::new_with_prefix(dir)?)
            }
            MediaLocation::S3(s3) => {
                let mut builder = AmazonS3Builder::new()
                    .with_bucket_name(&s3.bucket)
                    .with_region(&s3.region)
                    .with_access_key_id(&s3.access_key_id)
                    .with_secret_access_key(s3.secret_access_key.expose());
                if let Some(endpoint) = &s3.endpoint {
                    builder = builder
                        .with_endpoint(endpoint)
                        .with_allow_http(endpoint.starts_with("http://"));
                }
                let bucket = builder.build()?;
                if s3.prefix.is_empty() {
                    Arc::new(bucket)
                } else {
                    Arc::new(PrefixStore::new(bucket, s3.prefix.as_str()))
                }
            }
        };
        Ok(Self { store })
    }

    pub async fn put(&self, key: &str, bytes: impl Into<PutPayload>) -> Result<(), MediaError> {
        self.store.put(&path(key)?, bytes.into()).await?;
        Ok(())
    }

    /// The file under `key`, or `None` when there is none.
    pub async fn get(&self, key: &str) -> Result<Option<MediaFile>, MediaError> {
        match self.store.get(&path(key)?).await {
            Ok(found) => {
                let stored_at = found.meta.last_modified;
                Ok(Some(MediaFile {
                    bytes: found.bytes().await?,
                    stored_at,
                }))
            }
            Err(object_store::Error::NotFound { .. }) => Ok(None),
            Err(e) => Err(e.into()),
        }
    }

    /// Deletes `key`; deleting what is not there is not an error.
    pub async fn delete(&self, key: &str) -> Result<(), MediaError> {
        match self.store.delete(&path(key)?).await {
            Ok(()) | Err(object_store::Error::NotFound { .. }) => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    /// Every stored key.
    pub async fn list(&self) -> Result<Vec<Listed>, MediaError> {
        let listed: Vec<_> = self.store.list(None).try_collect().await?;
        Ok(listed
            .into_iter()
            .map(|meta| Listed {
                key: meta.location.to_string(),
                stored_at: meta.last_modified,
            })
            .collect())
    }
}

fn path(key: &str) -> Result<Path, MediaError> {
    if !is_key(key) {
        return Err(MediaError::InvalidKey(key.to_owned()));
    }
    Path::parse(key).map_err(|_| MediaError::InvalidKey(key.to_owned()))
}

/// The key of a file made from `original`: the original's SHA-256, then `name` (e.g. `960.jpg`).
pub fn key_for(original: &[u8], name: &str) -> String {
    format!("{}/{name}", hex::encode(Sha256::digest(original)))
}

/// Whether `key` is one the shop makes: 64 hex digits, `/`, a name of letters and digits with a `.jpg`,
/// `.png` or `.webp` extension. Nothing else is served or written, so a key can never climb out of the store.
pub fn is_key(key: &str) -> bool {
    let Some((digest, name)) = key.split_once('/') else {
        return false;
    };
    let Some((stem, _)) = name.split_once('.') else {
        return false;
    };
    digest.len() == 64
        && digest
            .bytes()
            .all(|b| b.is_ascii_digit() || (b'a'..=b'f').contains(&b))
        && !stem.is_empty()
        && stem.len() <= 16
        && stem.bytes().all(|b| b.is_ascii_alphanumeric())
        && content_type(key).is_some()
}

/// The content type a key's extension stands for.
pub fn content_type(key: &str) -> Option<&'static str> {
    let (_, extension) = key.rsplit_once('.')?;
    match extension {
        "jpg" => Some("image/jpeg"),
        "png" => Some("image/png"),
        "webp" => Some("image/webp"),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_are_the_content_digest_and_a_plain_name() {
        let key = key_for(b"picture", "960.jpg");
        assert!(is_key(&key), "{key}");
        assert_eq!(content_type(&key), Some("image/jpeg"));
        for bad in [
            "../etc/passwd",
            &format!("{}/../../x.jpg", "a".repeat(64)),
            &format!("{}/960.gif", "a".repeat(64)),
            &format!("{}/960.jpg", "A".repeat(64)),
            &format!("{}/960.jpg", "a".repeat(63)),
            &format!("{}/sub/960.jpg", "a".repeat(64)),
            &format!("{}/.jpg", "a".repeat(64)),
        ] {
            assert!(!is_key(bad), "{bad}");
        }
    }

    #[test]
    fn a_location_is_a_directory_or_a_bucket_with_keys() {
        let none = |_: &str| None;
        assert_eq!(
            MediaLocation::parse("file:///srv/media", none),
            Ok(MediaLocation::Directory(PathBuf::from("/srv/media")))
        );
        assert!(MediaLocation::parse("s3://bucket/images", none).is_err());
        assert!(MediaLocation::parse("http://example.com", none).is_err());
        let aws = |name: &str| match name {
            "AWS_ACCESS_KEY_ID" => Some("id".to_owned()),
            "AWS_SECRET_ACCESS_KEY" => Some("secret".to_owned()),
            "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:5000".to_owned()),
            _ => None,
        };
        let Ok(MediaLocation::S3(s3)) = MediaLocation::parse("s3://bucket/images/", aws) else {
            panic!("an S3 location");
        };
        assert_eq!(
            (s3.bucket.as_str(), s3.prefix.as_str()),
            ("bucket", "images")
        );
        assert_eq!(s3.region, "us-east-1");
    }
}
