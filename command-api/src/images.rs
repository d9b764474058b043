//! A product's images, for administrators: upload, reorder, remove (docs/adr/0020).

use std::collections::BTreeMap;

use axum::extract::multipart::MultipartError;
use axum::extract::{DefaultBodyLimit, Multipart, Path, State};
use axum::http::StatusCode;
use chrono::Utc;
use domain::product::{Product, ProductCommand};
use domain::{ImageId, ProductId};
use platform::auth::AuthUser;
use platform::{Problem, ProblemCode};
use serde::Deserialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use uuid::Uuid;

use crate::error::ApiError;
use crate::extract::{AppJson, IfMatch, RequestMeta, Written, WrittenBody, path_id};
use crate::openapi::{
    BadRequest, Forbidden, NotFound, PreconditionFailed, Unauthorized, Unavailable, Unprocessable,
    UnsupportedMediaType,
};
use crate::state::CommandState;
use crate::usecases::images::{AddImageError, ImageRefusal, MAX_UPLOAD_BYTES, Upload};

/// The upload route's body limit: the image and the multipart framing around it and the alt text.
pub const UPLOAD_BODY_LIMIT: usize = MAX_UPLOAD_BYTES + 64 * 1024;

pub fn router() -> OpenApiRouter<CommandState> {
    let upload = OpenApiRouter::new()
        .routes(routes!(upload))
        .layer(DefaultBodyLimit::max(UPLOAD_BODY_LIMIT));
    OpenApiRouter::new()
        .merge(upload)
        .routes(routes!(reorder))
        .routes(routes!(remove))
}

/// The upload form.
#[derive(Debug, ToSchema)]
#[allow(dead_code)] // Describes the multipart form for the document; the handler reads it field by field.
struct ImageUpload {
    /// A JPEG, PNG or WebP image of at most 5 MB and 40 megapixels, checked by its content.
    #[schema(value_type = String, format = Binary, content_media_type = "application/octet-stream")]
    image: Vec<u8>,
    /// What the image shows, for those who cannot see it: 1 to 250 characters.
    #[schema(example = "The blue shirt, folded")]
    alt: String,
}

/// The image is larger than 5 MB.
#[derive(utoipa::IntoResponses)]
#[response(status = 413, content_type = "application/problem+json")]
pub struct ImageTooLarge(pub platform::problem::ProblemBody);

/// Adds an image to a product (administrators), shown after its other images. The original and its resized
/// copies (JPEG, about 320 and 960 px wide) are stored before the event that shows them.
#[utoipa::path(
    post,
    path = "/products/{id}/images",
    operation_id = "add_product_image",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The product"), IfMatch),
    request_body(content = ImageUpload, content_type = "multipart/form-data"),
    responses(
        (status = 201, description = "The image is the product's last; `id` is the image's", body = WrittenBody,
            headers(("ETag" = String, description = "The product's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, ImageTooLarge,
        UnsupportedMediaType, Unprocessable, Unavailable,
    )
)]
async fn upload(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
    mut form: Multipart,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let product_id: ProductId = path_id(&id)?;
    let (mut image, mut alt) = (None, None);
    while let Some(field) = form.next_field().await.map_err(unreadable)? {
        match field.name() {
            Some("image") => image = Some(field.bytes().await.map_err(unreadable)?),
            Some("alt") => alt = Some(field.text().await.map_err(unreadable)?),
            _ => {}
        }
    }
    if image
        .as_ref()
        .is_some_and(|image| image.len() > MAX_UPLOAD_BYTES)
    {
        return Err(too_large().into());
    }
    let mut errors = BTreeMap::new();
    if image.is_none() {
        errors.insert(
            "image".to_owned(),
            "is required: a JPEG, PNG or WebP file".to_owned(),
        );
    }
    match alt.as_deref().map(domain::product::valid_alt) {
        None => {
            errors.insert(
                "alt".to_owned(),
                "is required: what the image shows".to_owned(),
            );
        }
        Some(Err(e)) => {
            errors.insert("alt".to_owned(), e.to_string());
        }
        Some(Ok(_)) => {}
    }
    let (Some(image), Some(alt), true) = (image, alt, errors.is_empty()) else {
        return Err(ApiError::Validation(errors));
    };
    let image_id = ImageId::new(Uuid::now_v7());
    let metadata = meta.by(&user).answering(201, image_id);
    let upload = Upload {
        bytes: image,
        image_id,
        alt,
    };
    let executed = state
        .images
        .add(&state.bus, product_id, upload, &metadata, version)
        .await
        .map_err(add_error)?;
    Ok(Written::created(image_id, executed))
}

fn too_large() -> Problem {
    Problem::new(
        StatusCode::PAYLOAD_TOO_LARGE,
        ProblemCode::PayloadTooLarge,
        "The image is larger than 5 MB.",
    )
}

/// A form that could not be read: too large (413) or malformed (400).
fn unreadable(error: MultipartError) -> ApiError {
    if error.status() == StatusCode::PAYLOAD_TOO_LARGE {
        return too_large().into();
    }
    Problem::new(
        StatusCode::BAD_REQUEST,
        ProblemCode::BadRequest,
        format!(
            "The multipart form could not be read: {}",
            error.body_text()
        ),
    )
    .into()
}

fn add_error(error: AddImageError) -> ApiError {
    match error {
        AddImageError::Refused(refusal) => {
            let code = match refusal {
                ImageRefusal::NotAnImage => ProblemCode::NotAnImage,
                ImageRefusal::TooLarge { .. } => ProblemCode::ImageTooLarge,
            };
            ApiError::refused(StatusCode::UNPROCESSABLE_ENTITY, code, refusal.to_string())
        }
        AddImageError::Media(e) => ApiError::Unavailable {
            what: "media store",
            cause: e.to_string(),
        },
        AddImageError::Store(e) => e.into(),
        AddImageError::Worker(e) => ApiError::internal(e),
    }
}

/// Every image of the product, each once, in the order to show them.
#[derive(Debug, Deserialize, ToSchema)]
struct ImageOrder {
    #[schema(value_type = Vec<String>)]
    order: Vec<String>,
}

/// Reorders a product's images (administrators); the first is the one catalog cards show.
#[utoipa::path(
    put,
    path = "/products/{id}/images",
    operation_id = "reorder_product_images",
    tag = "catalog",
    security(("bearer" = [])),
    params(("id" = String, Path, format = Uuid, description = "The product"), IfMatch),
    request_body = ImageOrder,
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The product's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, UnsupportedMediaType,
        Unprocessable, Unavailable,
    )
)]
async fn reorder(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path(id): Path<String>,
    AppJson(body): AppJson<ImageOrder>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let product_id: ProductId = path_id(&id)?;
    let order = body
        .order
        .iter()
        .map(|id| id.parse::<ImageId>())
        .collect::<Result<Vec<_>, _>>()
        .map_err(|_| ApiError::field("order", "must list image ids"))?;
    let command = ProductCommand::ReorderImages {
        order,
        at: Utc::now(),
    };
    state
        .accept::<Product>(&product_id.to_string(), command, &meta.by(&user), version)
        .await
}

/// Removes an image from a product (administrators). Its files are deleted by the media sweep once no image
/// names them.
#[utoipa::path(
    delete,
    path = "/products/{id}/images/{image_id}",
    operation_id = "remove_product_image",
    tag = "catalog",
    security(("bearer" = [])),
    params(
        ("id" = String, Path, format = Uuid, description = "The product"),
        ("image_id" = String, Path, format = Uuid, description = "The image"),
        IfMatch,
    ),
    responses(
        (status = 202, description = "Accepted", body = WrittenBody,
            headers(("ETag" = String, description = "The product's new version"))),
        BadRequest, Unauthorized, Forbidden, NotFound, PreconditionFailed, Unprocessable, Unavailable,
    )
)]
async fn remove(
    State(state): State<CommandState>,
    user: AuthUser,
    meta: RequestMeta,
    IfMatch(version): IfMatch,
    Path((id, image_id)): Path<(String, String)>,
) -> Result<Written, ApiError> {
    user.require_admin()?;
    let product_id: ProductId = path_id(&id)?;
    let image_id: ImageId = path_id(&image_id)?;
    let command = ProductCommand::RemoveImage {
        image_id,
        at: Utc::now(),
    };
    state
        .accept::<Product>(&product_id.to_string(), command, &meta.by(&user), version)
        .await
}
