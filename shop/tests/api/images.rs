//! Product images (issue 16): upload, reorder, remove, serving at /media, refusals that store nothing, and
//! the sweep of files a crash left without their event. The media store is moto's S3 server (a real S3
//! endpoint), except where a test says otherwise.

use std::time::Duration;

use command_api::usecases::images::{self, Images, testing::png_header_only};
use eventstore::testing::eventually;
use image::codecs::png::PngEncoder;
use image::{ExtendedColorType, ImageEncoder, RgbImage};
use platform::media::MediaStore;
use reqwest::multipart::{Form, Part};
use reqwest::{Method, Response, StatusCode};
use serde_json::{Value, json};

use crate::helpers::{TestApp, body, problem, spawn_app, spawn_app_with_s3};

fn photo() -> Vec<u8> {
    images::generated_jpeg(2000, 1500, [30, 90, 200], [240, 200, 40])
}

fn png(width: u32, height: u32) -> Vec<u8> {
    let picture = RgbImage::from_pixel(width, height, image::Rgb([200, 30, 30]));
    let mut out = Vec::new();
    PngEncoder::new(&mut out)
        .write_image(picture.as_raw(), width, height, ExtendedColorType::Rgb8)
        .unwrap();
    out
}

async fn upload(
    app: &TestApp,
    token: Option<&str>,
    product: &str,
    file: Vec<u8>,
    alt: Option<&str>,
) -> Response {
    let mut form = Form::new().part("image", Part::bytes(file).file_name("picture.bin"));
    if let Some(alt) = alt {
        form = form.text("alt", alt.to_owned());
    }
    app.request(Method::POST, &format!("/products/{product}/images"), token)
        .multipart(form)
        .send()
        .await
        .expect("request")
}

/// The product once its read models have reached `position`.
async fn product_at(app: &TestApp, id: &str, position: &Value) -> Value {
    let answer = app
        .request(Method::GET, &format!("/products/{id}"), None)
        .header("x-min-position", position.as_str().unwrap())
        .send()
        .await
        .unwrap();
    assert_eq!(answer.status(), StatusCode::OK);
    body(answer).await
}

fn media(app: &TestApp) -> MediaStore {
    MediaStore::open(&app.settings.media).unwrap()
}

async fn stored_keys(app: &TestApp) -> Vec<String> {
    let mut keys: Vec<String> = media(app)
        .list()
        .await
        .unwrap()
        .into_iter()
        .map(|f| f.key)
        .collect();
    keys.sort();
    keys
}

#[tokio::test]
async fn an_admin_uploads_reorders_and_removes_images_and_the_shop_serves_them() {
    let app = spawn_app_with_s3().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Blue Shirt", 1999, 5).await;

    let first = upload(
        &app,
        Some(&admin),
        &product,
        photo(),
        Some("The shirt, front"),
    )
    .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    assert!(first.headers().contains_key("etag"));
    let first = body(first).await;
    let second = body(
        upload(
            &app,
            Some(&admin),
            &product,
            png(800, 400),
            Some("The shirt, back"),
        )
        .await,
    )
    .await;
    let (a, b) = (
        first["id"].as_str().unwrap(),
        second["id"].as_str().unwrap(),
    );

    let shown = product_at(&app, &product, &second["position"]).await;
    let images = shown["images"].as_array().unwrap();
    assert_eq!(images.len(), 2);
    assert_eq!(images[0]["id"], a);
    assert_eq!(images[0]["alt"], "The shirt, front");
    assert_eq!(
        (images[0]["width"].as_u64(), images[0]["height"].as_u64()),
        (Some(960), Some(720))
    );
    let widths: Vec<u64> = images[0]["variants"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| v["width"].as_u64().unwrap())
        .collect();
    assert_eq!(widths, [320, 960]);
    // An 800 px wide image is never upscaled: its widest copy is its own width.
    assert_eq!(
        (images[1]["width"].as_u64(), images[1]["height"].as_u64()),
        (Some(800), Some(400))
    );

    // Served by the shop, never from the store's own address; immutable, with an ETag.
    let url = images[0]["url"].as_str().unwrap();
    assert!(
        url.starts_with("/media/") && url.ends_with("/960.jpg"),
        "{url}"
    );
    let served = app.get(url, None).await;
    assert_eq!(served.status(), StatusCode::OK);
    assert_eq!(served.headers()["content-type"], "image/jpeg");
    assert!(
        served.headers()["cache-control"]
            .to_str()
            .unwrap()
            .contains("immutable")
    );
    let etag = served.headers()["etag"].clone();
    let bytes = served.bytes().await.unwrap();
    let decoded = image::load_from_memory(&bytes).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (960, 720));
    let again = app
        .request(Method::GET, url, None)
        .header("if-none-match", etag)
        .send()
        .await
        .unwrap();
    assert_eq!(again.status(), StatusCode::NOT_MODIFIED);
    problem(
        app.get(&format!("/media/{}/960.jpg", "0".repeat(64)), None)
            .await,
        StatusCode::NOT_FOUND,
    )
    .await;
    problem(
        app.get("/media/..%2F..%2Fetc/passwd.jpg", None).await,
        StatusCode::NOT_FOUND,
    )
    .await;

    // The listing carries them too (the catalog index).
    let listed = eventually(
        "the listing shows both images",
        Duration::from_secs(10),
        async || {
            let page = body(app.get("/products?limit=100", None).await).await;
            let item = page["items"]
                .as_array()?
                .iter()
                .find(|p| p["id"] == product.as_str())?
                .clone();
            (item["images"].as_array()?.len() == 2).then_some(item)
        },
    )
    .await;
    assert_eq!(listed["images"][0]["id"], a);

    // Reorder: every image once, or 422.
    let wrong = app
        .request(
            Method::PUT,
            &format!("/products/{product}/images"),
            Some(&admin),
        )
        .json(&json!({"order": [b]}))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(wrong, StatusCode::UNPROCESSABLE_ENTITY).await["type"],
        "/problems/invalid_image_order"
    );
    let reordered = app
        .request(
            Method::PUT,
            &format!("/products/{product}/images"),
            Some(&admin),
        )
        .json(&json!({"order": [b, a]}))
        .send()
        .await
        .unwrap();
    assert_eq!(reordered.status(), StatusCode::ACCEPTED);
    let reordered = body(reordered).await;
    let shown = product_at(&app, &product, &reordered["position"]).await;
    assert_eq!(shown["images"][0]["id"], b);

    // Remove; a second time is 404.
    let path = format!("/products/{product}/images/{a}");
    let removed = app
        .request(Method::DELETE, &path, Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(removed.status(), StatusCode::ACCEPTED);
    let removed = body(removed).await;
    let shown = product_at(&app, &product, &removed["position"]).await;
    assert_eq!(shown["images"].as_array().unwrap().len(), 1);
    let twice = app
        .request(Method::DELETE, &path, Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(
        problem(twice, StatusCode::NOT_FOUND).await["type"],
        "/problems/image_not_found"
    );

    assert_eq!(
        app.event_types("product", &product).await,
        [
            "ProductCreated",
            "ProductImageAdded",
            "ProductImageAdded",
            "ProductImagesReordered",
            "ProductImageRemoved"
        ]
    );
    // Both uploads' originals and variants are in the bucket: 3 + 3 files.
    assert_eq!(stored_keys(&app).await.len(), 6);

    // Replay rebuilds the product details with their images, identical to the live ones.
    let verified = app
        .cli(&["replay", "--projector", "product_details", "--verify"])
        .await;
    assert!(
        verified.status.success(),
        "{}",
        String::from_utf8_lossy(&verified.stdout)
    );
}

#[tokio::test]
async fn bad_uploads_get_a_problem_and_store_nothing() {
    let app = spawn_app_with_s3().await;
    let admin = app.admin().await;
    let (_, customer) = app.customer().await;
    let product = app.product(&admin, "Red Mug", 899, 5).await;

    let text = upload(
        &app,
        Some(&admin),
        &product,
        b"just some text, named .png".to_vec(),
        Some("alt"),
    )
    .await;
    assert_eq!(
        problem(text, StatusCode::UNPROCESSABLE_ENTITY).await["type"],
        "/problems/not_an_image"
    );

    // A decompression bomb: a few hundred bytes that declare 50,000 × 50,000 pixels.
    let bomb = png_header_only(50_000, 50_000);
    assert!(bomb.len() < 1_000);
    let refused = upload(&app, Some(&admin), &product, bomb, Some("alt")).await;
    assert_eq!(
        problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["type"],
        "/problems/image_too_large"
    );
    // 48 megapixels, each side within bounds.
    let refused = upload(
        &app,
        Some(&admin),
        &product,
        png_header_only(8_000, 6_000),
        Some("alt"),
    )
    .await;
    assert_eq!(
        problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["type"],
        "/problems/image_too_large"
    );

    // Over 5 MB, with and without an Idempotency-Key (whose middleware reads the body first).
    let big = vec![0xAB; 5 * 1024 * 1024 + 1];
    problem(
        upload(&app, Some(&admin), &product, big.clone(), Some("alt")).await,
        StatusCode::PAYLOAD_TOO_LARGE,
    )
    .await;
    let keyed = app
        .request(
            Method::POST,
            &format!("/products/{product}/images"),
            Some(&admin),
        )
        .header("idempotency-key", "big-upload-1")
        .multipart(
            Form::new()
                .part("image", Part::bytes(big))
                .text("alt", "alt"),
        )
        .send()
        .await
        .unwrap();
    problem(keyed, StatusCode::PAYLOAD_TOO_LARGE).await;

    // Every field's problem at once.
    let missing = app
        .request(
            Method::POST,
            &format!("/products/{product}/images"),
            Some(&admin),
        )
        .multipart(Form::new().text("alt", " "))
        .send()
        .await
        .unwrap();
    let missing = problem(missing, StatusCode::UNPROCESSABLE_ENTITY).await;
    assert!(
        missing["errors"]["image"].is_string() && missing["errors"]["alt"].is_string(),
        "{missing}"
    );
    let long_alt = "x".repeat(251);
    let refused = upload(&app, Some(&admin), &product, photo(), Some(&long_alt)).await;
    assert!(problem(refused, StatusCode::UNPROCESSABLE_ENTITY).await["errors"]["alt"].is_string());

    // Not an admin; no such product; not a form.
    problem(
        upload(&app, Some(&customer), &product, photo(), Some("alt")).await,
        StatusCode::FORBIDDEN,
    )
    .await;
    problem(
        upload(&app, None, &product, photo(), Some("alt")).await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown = "0190c0de-0000-7000-8000-000000000001";
    problem(
        upload(&app, Some(&admin), unknown, photo(), Some("alt")).await,
        StatusCode::NOT_FOUND,
    )
    .await;
    let json_body = app
        .post(
            &format!("/products/{product}/images"),
            Some(&admin),
            json!({"alt": "x"}),
        )
        .await;
    assert!(json_body.status().is_client_error());

    // A stale If-Match: 412, before anything is decoded or stored.
    let stale = app
        .request(
            Method::POST,
            &format!("/products/{product}/images"),
            Some(&admin),
        )
        .header("if-match", "\"99\"")
        .multipart(
            Form::new()
                .part("image", Part::bytes(photo()))
                .text("alt", "alt"),
        )
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;

    assert_eq!(
        app.event_types("product", &product).await,
        ["ProductCreated"]
    );
    assert!(stored_keys(&app).await.is_empty(), "nothing may be stored");
}

#[tokio::test]
async fn a_crash_between_the_files_and_the_event_leaves_files_that_the_sweep_deletes() {
    let app = spawn_app_with_s3().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Green Lamp", 4999, 5).await;
    let kept = body(upload(&app, Some(&admin), &product, photo(), Some("The lamp")).await).await;
    let removed = body(
        upload(
            &app,
            Some(&admin),
            &product,
            png(700, 700),
            Some("Its shade"),
        )
        .await,
    )
    .await;

    // An upload whose process died after writing its files and before appending its event.
    let images = Images::new(media(&app), 1);
    let orphan = images.prepare(png(640, 480).into()).await.unwrap();
    images.store(&orphan).await.unwrap();
    assert_eq!(stored_keys(&app).await.len(), 9);

    let path = format!(
        "/products/{product}/images/{}",
        removed["id"].as_str().unwrap()
    );
    let gone = app
        .request(Method::DELETE, &path, Some(&admin))
        .send()
        .await
        .unwrap();
    assert_eq!(gone.status(), StatusCode::ACCEPTED);
    let gone = body(gone).await;

    // Within the grace period nothing goes: an upload in flight writes its files just before its event.
    let sweep = app.cli(&["media", "sweep"]).await;
    assert!(
        sweep.status.success(),
        "{}",
        String::from_utf8_lossy(&sweep.stderr)
    );
    assert_eq!(stored_keys(&app).await.len(), 9);

    let sweep = app.cli(&["media", "sweep", "--grace-minutes", "0"]).await;
    let out = String::from_utf8_lossy(&sweep.stdout).to_string();
    assert!(sweep.status.success(), "{out}");
    assert!(out.contains("6 deleted, 3 named"), "{out}");
    let left = stored_keys(&app).await;
    assert_eq!(left.len(), 3);
    let shown = product_at(&app, &product, &gone["position"]).await;
    assert_eq!(shown["images"][0]["id"], kept["id"]);
    for image in shown["images"].as_array().unwrap() {
        for variant in image["variants"].as_array().unwrap() {
            let url = variant["url"].as_str().unwrap();
            assert!(
                left.iter().any(|k| url.ends_with(k.as_str())),
                "{url} was swept"
            );
            assert_eq!(app.get(url, None).await.status(), StatusCode::OK);
        }
    }
}

#[tokio::test]
async fn a_local_directory_holds_the_files_by_default() {
    let app = spawn_app().await;
    let admin = app.admin().await;
    let product = app.product(&admin, "Oak Table", 19999, 1).await;
    let added = upload(&app, Some(&admin), &product, photo(), Some("The table")).await;
    assert_eq!(added.status(), StatusCode::CREATED);
    let added = body(added).await;
    let shown = product_at(&app, &product, &added["position"]).await;
    let url = shown["images"][0]["variants"][0]["url"].as_str().unwrap();
    let served = app.get(url, None).await;
    assert_eq!(served.status(), StatusCode::OK);
    let decoded = image::load_from_memory(&served.bytes().await.unwrap()).unwrap();
    assert_eq!((decoded.width(), decoded.height()), (320, 240));
    assert!(matches!(
        app.settings.media,
        platform::media::MediaLocation::Directory(_)
    ));
}
