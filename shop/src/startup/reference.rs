//! The API's reference: the OpenAPI document at `GET /api/v1/openapi.json`, assembled from the routers
//! that serve the routes (docs/adr/0007-openapi.md), and Swagger UI at `/api/v1/docs`, compiled into the
//! binary so that nothing is fetched from the internet to show it.

use std::sync::LazyLock;

use axum::Router;
use axum::http::header;
use axum::response::IntoResponse;
use utoipa::openapi::OpenApi as Document;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;
use utoipa_swagger_ui::{Config, SwaggerUi};

/// Where the API lives; the operations endpoints are outside it.
pub const API_BASE: &str = "/api/v1";
const DOCUMENT_PATH: &str = "/api/v1/openapi.json";
const UI_PATH: &str = "/api/v1/docs";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "shop",
        description = "An event-sourced shop. Writes answer `{id, position}`; send `position` as \
                       `X-Min-Position` to read your own writes. Errors are RFC 9457 problem+json.",
    ),
    modifiers(&BearerToken),
    tags(
        (name = "auth", description = "Registration, tokens and the caller's account"),
        (name = "catalog", description = "Products and categories"),
        (name = "cart", description = "The caller's cart and checkout"),
        (name = "orders", description = "Orders and their transitions"),
        (name = "notifications", description = "Messages sent about orders and accounts"),
        (name = "audit", description = "The event log, for administrators"),
        (name = "operations", description = "Health, metrics and this document; not under /api/v1"),
    )
)]
struct Shop;

/// The `bearer` scheme the operations' `security(("bearer" = []))` name.
struct BearerToken;

impl Modify for BearerToken {
    fn modify(&self, doc: &mut Document) {
        let components = doc.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("JWT")
                    .description(Some(
                        "From `POST /api/v1/auth/login`. HS256; claims `sub` (user id), `role` \
                         (`customer` or `admin`), `exp`, `iat`, `jti`, `iss` = `shop`. The login also \
                         sets it as the HttpOnly cookie `shop_session` (Path=/api/v1, SameSite=Strict), \
                         which authenticates a request without an `Authorization` header; a write \
                         authenticated by the cookie must carry `X-Requested-With` (403 \
                         `csrf_header_missing` otherwise).",
                    ))
                    .build(),
            ),
        );
    }
}

/// The whole API, whatever roles this process plays: what one instance serves is a part of it.
pub fn document() -> Document {
    let mut api = command_api::document();
    // `merge`, not a second `nest`: nesting replaces a path's item, and reads and writes share paths.
    api.merge(query_api::document());
    api.merge(document_route().into_openapi());
    Shop::openapi()
        .nest(API_BASE, api)
        .merge_from(crate::health::operations().into_openapi())
        .merge_from(crate::media::routes().into_openapi())
}

static DOCUMENT: LazyLock<String> = LazyLock::new(|| {
    document()
        .to_json()
        .expect("the OpenAPI document serializes")
});

/// `GET /openapi.json`, relative to the API's base.
pub fn document_router() -> Router {
    let (router, _) = document_route().split_for_parts();
    router
}

fn document_route() -> OpenApiRouter {
    OpenApiRouter::new().routes(routes!(openapi_json))
}

/// This document.
#[utoipa::path(
    get,
    path = "/openapi.json",
    operation_id = "get_openapi_document",
    tag = "operations",
    responses((status = 200, description = "The OpenAPI 3.1 document of the whole API", body = Object))
)]
async fn openapi_json() -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        DOCUMENT.as_str(),
    )
}

/// Swagger UI over the document, at `/api/v1/docs`. Its files are compiled in (`utoipa-swagger-ui`'s
/// `vendored` feature) and it loads the document from this server only.
pub fn ui() -> Router {
    let config = Config::new([DOCUMENT_PATH])
        .validator_url("none")
        .try_it_out_enabled(true)
        // A token typed in stays in the page, never in localStorage where any script could read it.
        .persist_authorization(false);
    SwaggerUi::new(UI_PATH).config(config).into()
}

#[cfg(test)]
mod tests {
    use std::path::Path;

    /// The storefront's API types are generated from this file (`npm run api-types` in frontend/), and
    /// `npm run typecheck` fails when they are stale against it: no server is needed for either.
    const CHECKED_IN: &str = "../docs/openapi.json";

    #[test]
    fn the_checked_in_openapi_document_is_the_one_the_server_serves() {
        let served = format!(
            "{}\n",
            super::document()
                .to_pretty_json()
                .expect("the OpenAPI document serializes")
        );
        let path = Path::new(env!("CARGO_MANIFEST_DIR")).join(CHECKED_IN);
        let checked_in = std::fs::read_to_string(&path).unwrap_or_default();
        if checked_in != served {
            std::fs::write(&path, &served).expect("docs/openapi.json is writable");
            panic!(
                "docs/openapi.json was stale and has been rewritten: regenerate the storefront's types \
                 (cd frontend && npm run api-types) and commit both"
            );
        }
    }
}
