//! Product images (issue 16): uploading and resizing a 4000 × 3000 photo, and serving a resized copy, each
//! next to a baseline measured in the same run.
//!
//! The shop runs in this process (every role, on its own database, Redis prefix, MongoDB database and
//! RabbitMQ names; the media store in a fresh directory, or with `BENCH_S3=1` in a fresh bucket of moto's S3
//! server). Printed:
//! - the photo's size, then in-process: decoding it alone (the baseline: what any image handling costs) and
//!   `prepare` (decode, two resizes, two JPEG encodes), each the median of `BENCH_RUNS` (default 5);
//! - over HTTP, one upload at a time: `POST /products/{id}/images` of the photo → 201 (the files stored and
//!   the event appended), next to the same upload of a 64 × 48 picture (the request's fixed cost);
//! - wrk (2 threads, 64 connections, 10 s): `GET /media/<digest>/960.jpg` next to `GET /health/live`.
//!
//! Run: `cargo bench -p shop --bench images` (services up: `scripts/services.sh`; wrk installed).

use std::time::{Duration, Instant};

use axum::body::Bytes;
use command_api::usecases::images::{self, prepare};
use eventstore::testing::{drop_database, fresh_database};
use image::codecs::jpeg::JpegEncoder;
use image::{ImageEncoder, RgbImage};
use platform::Settings;
use reqwest::multipart::{Form, Part};
use serde_json::{Value, json};
use shop::{Application, Roles};
use uuid::Uuid;

/// A photo-like picture: smooth gradients under fine noise, which JPEG cannot squeeze away (a plain gradient
/// would compress to a few kilobytes and decode unrealistically fast).
fn photo(width: u32, height: u32) -> Vec<u8> {
    let mut state = 0x2545_f491_4f6c_dd1d_u64;
    let picture = RgbImage::from_fn(width, height, |x, y| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let noise = (state % 48) as u32;
        let r = (x * 200 / width + noise) as u8;
        let g = (y * 180 / height + noise / 2) as u8;
        let b = (((x + y) * 120 / (width + height)) + noise) as u8;
        image::Rgb([r, g, b])
    });
    let mut jpeg = Vec::new();
    JpegEncoder::new_with_quality(&mut jpeg, 85)
        .write_image(
            picture.as_raw(),
            width,
            height,
            image::ExtendedColorType::Rgb8,
        )
        .expect("encode the photo");
    jpeg
}

fn median(mut samples: Vec<Duration>) -> Duration {
    samples.sort();
    samples[samples.len() / 2]
}

fn ms(d: Duration) -> String {
    format!("{:.0} ms", d.as_secs_f64() * 1000.0)
}

fn wrk(url: &str) -> (String, String) {
    let out = std::process::Command::new("wrk")
        .args(["-t2", "-c64", "-d10s", "--latency", url])
        .output()
        .expect("wrk (apt-get install wrk)");
    let text = String::from_utf8_lossy(&out.stdout).to_string();
    let field = |prefix: &str, index: usize| {
        text.lines()
            .find(|l| l.trim_start().starts_with(prefix))
            .and_then(|l| l.split_whitespace().nth(index).map(str::to_owned))
            .unwrap_or_else(|| "?".to_owned())
    };
    (field("Requests/sec:", 1), field("99%", 1))
}

#[tokio::main]
async fn main() {
    let runs: usize = std::env::var("BENCH_RUNS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(5);
    let original = Bytes::from(photo(4000, 3000));
    println!(
        "images benchmark: a 4000 × 3000 JPEG of {:.1} MB, {} cores, median of {runs}",
        original.len() as f64 / 1e6,
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );

    let decode = (0..runs)
        .map(|_| {
            let started = Instant::now();
            image::load_from_memory(&original).expect("decode");
            started.elapsed()
        })
        .collect();
    let prepared = (0..runs)
        .map(|_| {
            let started = Instant::now();
            prepare(original.clone()).expect("prepare");
            started.elapsed()
        })
        .collect();
    println!(
        "in process: decode alone (baseline) {}, prepare (decode, 2 resizes, 2 JPEG encodes) {}",
        ms(median(decode)),
        ms(median(prepared))
    );

    let (server, database_url, base, token, product) = start().await;
    let client = reqwest::Client::new();
    let upload = |bytes: Bytes| {
        let client = client.clone();
        let url = format!("{base}/api/v1/products/{product}/images");
        let token = token.clone();
        async move {
            let form = Form::new()
                .part("image", Part::bytes(bytes.to_vec()).file_name("photo.jpg"))
                .text("alt", "A benchmark photo");
            let started = Instant::now();
            let answer = client
                .post(url)
                .bearer_auth(token)
                .multipart(form)
                .send()
                .await
                .expect("upload");
            let elapsed = started.elapsed();
            assert_eq!(
                answer.status(),
                201,
                "{}",
                answer.text().await.unwrap_or_default()
            );
            (elapsed, answer.json::<Value>().await.expect("answer"))
        }
    };
    let small = Bytes::from(images::generated_jpeg(
        64,
        48,
        [10, 10, 10],
        [200, 200, 200],
    ));
    let mut small_times = Vec::new();
    let mut photo_times = Vec::new();
    let mut last = Value::Null;
    // Alternated, so that a slow moment of the machine falls on both. At most 20 images a product: two
    // products' worth when runs > 10.
    for _ in 0..runs.min(10) {
        small_times.push(upload(small.clone()).await.0);
        let (elapsed, answer) = upload(original.clone()).await;
        photo_times.push(elapsed);
        last = answer;
    }
    println!(
        "over HTTP, one at a time: upload of a 64 × 48 JPEG (baseline) {}, of the 4000 × 3000 photo {}",
        ms(median(small_times)),
        ms(median(photo_times))
    );

    let shown: Value = client
        .get(format!("{base}/api/v1/products/{product}"))
        .header(
            "x-min-position",
            last["position"].as_str().expect("a position"),
        )
        .send()
        .await
        .expect("read the product")
        .json()
        .await
        .expect("product");
    let variant = shown["images"][1]["url"]
        .as_str()
        .expect("a variant url")
        .to_owned();
    let trivial = tokio::task::spawn_blocking({
        let url = format!("{base}/health/live");
        move || wrk(&url)
    })
    .await
    .unwrap();
    let served = tokio::task::spawn_blocking({
        let url = format!("{base}{variant}");
        move || wrk(&url)
    })
    .await
    .unwrap();
    let size = client
        .get(format!("{base}{variant}"))
        .send()
        .await
        .unwrap()
        .bytes()
        .await
        .unwrap()
        .len();
    println!(
        "wrk 64 connections: GET /health/live (trivial) {} requests/s, p99 {}; GET {} ({:.0} KiB) {} requests/s, p99 {}",
        trivial.0,
        trivial.1,
        variant.rsplit('/').next().unwrap_or_default(),
        size as f64 / 1024.0,
        served.0,
        served.1
    );
    server.abort();
    if let Err(error) = drop_database(&database_url).await {
        eprintln!("could not drop the benchmark's database: {error}");
    }
}

/// The shop in this process, its database's URL, its address, an administrator's token and a product.
async fn start() -> (tokio::task::JoinHandle<()>, String, String, String, String) {
    let (_pool, database_url) = fresh_database().await;
    let unique = Uuid::now_v7().simple().to_string();
    let prefix = format!("bench:{unique}:");
    let media = if std::env::var("BENCH_S3").as_deref() == Ok("1") {
        let bucket = format!("bench-{unique}");
        reqwest::Client::new()
            .put(format!("http://127.0.0.1:9010/{bucket}"))
            .send()
            .await
            .expect("moto on 127.0.0.1:9010 (scripts/services.sh)");
        format!("s3://{bucket}/media")
    } else {
        format!(
            "file://{}/shop-bench-media/{unique}",
            std::env::temp_dir().display()
        )
    };
    let settings = Settings::from_lookup(|name| match name {
        "DATABASE_URL" => Some(database_url.clone()),
        "SHOP_HTTP_ADDR" => Some("127.0.0.1:0".to_owned()),
        "REDIS_PREFIX" | "AMQP_PREFIX" => Some(prefix.clone()),
        "MONGODB_DATABASE" => Some(format!("shop_bench_{unique}")),
        "SHOP_MEDIA_URL" => Some(media.clone()),
        "AWS_ENDPOINT_URL" => Some("http://127.0.0.1:9010".to_owned()),
        "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" => Some("bench".to_owned()),
        other => std::env::var(other).ok(),
    })
    .expect("settings");
    let app = Application::build(&settings, Roles::all())
        .await
        .expect("build the shop");
    let base = format!("http://127.0.0.1:{}", app.port());
    let server = tokio::spawn(async move {
        if let Err(error) = app.run_until(std::future::pending()).await {
            eprintln!("the shop stopped: {error:#}");
        }
    });
    let email = format!("bench-{unique}@example.com");
    shop::cli::create_user(
        &settings,
        &email,
        "bench password 1".to_owned(),
        "Bench",
        true,
    )
    .await
    .expect("an administrator");
    let post = async |path: &str, token: Option<&str>, body: Value| -> Value {
        let mut request = reqwest::Client::new()
            .post(format!("{base}/api/v1{path}"))
            .json(&body);
        if let Some(token) = token {
            request = request.bearer_auth(token);
        }
        request.send().await.expect(path).json().await.expect(path)
    };
    let login = post(
        "/auth/login",
        None,
        json!({"email": email, "password": "bench password 1"}),
    )
    .await;
    let token = login["access_token"].as_str().expect("a token").to_owned();
    let created = post(
        "/products",
        Some(&token),
        json!({"sku": format!("PHOTO-{}", &unique[20..]), "name": "Photo", "category": "Bench",
               "price": {"amount": 1000, "currency": "EUR"}, "stock": 1}),
    )
    .await;
    let product = created["id"].as_str().expect("a product").to_owned();
    (server, database_url, base, token, product)
}
