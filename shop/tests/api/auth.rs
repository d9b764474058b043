use futures::future::join_all;
use reqwest::{Method, StatusCode};
use serde_json::json;

use crate::helpers::{TestApp, body, problem, spawn_app, spawn_app_with};

#[tokio::test]
async fn a_customer_registers_logs_in_and_gets_a_token_with_the_contracts_claims() {
    let app = spawn_app().await;
    let registered = app
        .register("Ada@Example.com", "correct horse battery")
        .await;
    assert_eq!(registered.status(), StatusCode::CREATED);
    let registered = body(registered).await;
    let id = registered["id"].as_str().unwrap();
    assert!(registered["position"].is_string());

    // Email is stored lower-case, so any casing logs in.
    let login = app.login("ada@example.COM", "correct horse battery").await;
    assert_eq!(login.status(), StatusCode::OK);
    let login = body(login).await;
    assert_eq!(login["token_type"], "Bearer");
    assert_eq!(login["user_id"], id);
    assert_eq!(login["role"], "customer");
    assert_eq!(login["expires_in"], 3600);

    let claims = platform::tokens::TokenService::new(
        app.settings.jwt_secret.expose().as_bytes(),
        app.settings.token_ttl,
    )
    .verify(login["access_token"].as_str().unwrap())
    .unwrap();
    assert_eq!(claims.sub, id);
    assert_eq!(claims.iss, "shop");
    assert!(!claims.jti.is_empty());
    assert_eq!(app.event_types("user", id).await, ["UserRegistered"]);
}

#[tokio::test]
async fn the_password_hash_is_argon2id() {
    let app = spawn_app().await;
    let id = body(
        app.register("hash@example.com", "correct horse battery")
            .await,
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let payload: String =
        sqlx::query_scalar("SELECT payload::text FROM events WHERE aggregate_id = $1")
            .bind(&id)
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert!(payload.contains("$argon2id$"), "{payload}");
    assert!(!payload.contains("correct horse"));
}

#[tokio::test]
async fn registering_an_email_twice_is_a_conflict_whatever_its_case() {
    let app = spawn_app().await;
    assert_eq!(
        app.register("twice@example.com", "password123")
            .await
            .status(),
        StatusCode::CREATED
    );
    let again = app.register("TWICE@example.com", "password456").await;
    let problem = problem(again, StatusCode::CONFLICT).await;
    assert_eq!(problem["type"], "/problems/email_taken");
}

#[tokio::test]
async fn twenty_concurrent_registrations_of_one_email_give_one_account_and_nineteen_conflicts() {
    // Room for every hash at once: this is about the claim, not the cap on hashes.
    let app = spawn_app_with(&[("SHOP_PASSWORD_HASHES_AT_ONCE", "32")]).await;
    let passwords: Vec<String> = (0..20).map(|i| format!("password-{i:02}")).collect();
    let attempts = passwords
        .iter()
        .map(|p| app.register("race@example.com", p));
    let statuses: Vec<StatusCode> = join_all(attempts)
        .await
        .iter()
        .map(|r| r.status())
        .collect();
    let created = statuses
        .iter()
        .filter(|s| **s == StatusCode::CREATED)
        .count();
    let conflicts = statuses
        .iter()
        .filter(|s| **s == StatusCode::CONFLICT)
        .count();
    assert_eq!((created, conflicts), (1, 19), "{statuses:?}");
    let users: i64 =
        sqlx::query_scalar("SELECT count(*) FROM events WHERE event_type = 'UserRegistered'")
            .fetch_one(&app.pool)
            .await
            .unwrap();
    assert_eq!(users, 1);
}

#[tokio::test]
async fn invalid_registrations_are_refused_with_every_field_named() {
    let app = spawn_app().await;
    let response = app
        .post(
            "/auth/register",
            None,
            json!({"email": "not-an-email", "password": "short", "name": "  "}),
        )
        .await;
    let problem = problem(response, StatusCode::UNPROCESSABLE_ENTITY).await;
    for field in ["email", "password", "name"] {
        assert!(problem["errors"][field].is_string(), "{field}: {problem}");
    }
    let too_long = app
        .post(
            "/auth/register",
            None,
            json!({"email": "a@example.com", "password": "x".repeat(129), "name": "A"}),
        )
        .await;
    assert!(problem_has_field(too_long, "password").await);
    assert_eq!(app.event_count().await, 0);
}

async fn problem_has_field(response: reqwest::Response, field: &str) -> bool {
    problem(response, StatusCode::UNPROCESSABLE_ENTITY).await["errors"][field].is_string()
}

#[tokio::test]
async fn a_wrong_password_and_an_unknown_email_get_the_same_answer() {
    let app = spawn_app().await;
    app.register("known@example.com", "correct horse battery")
        .await;
    let wrong = problem(
        app.login("known@example.com", "wrong password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    let unknown = problem(
        app.login("nobody@example.com", "wrong password").await,
        StatusCode::UNAUTHORIZED,
    )
    .await;
    assert_eq!(wrong, unknown);
}

#[tokio::test]
async fn more_than_ten_failed_logins_a_minute_are_rate_limited() {
    let app = spawn_app().await;
    app.register("target@example.com", "correct horse battery")
        .await;
    for _ in 0..10 {
        assert_eq!(
            app.login("target@example.com", "wrong").await.status(),
            StatusCode::UNAUTHORIZED
        );
    }
    let limited = app
        .login("target@example.com", "correct horse battery")
        .await;
    assert!(limited.headers().contains_key("retry-after"));
    problem(limited, StatusCode::TOO_MANY_REQUESTS).await;
}

#[tokio::test]
async fn a_logged_out_token_is_refused_from_then_on() {
    let app = spawn_app().await;
    let (_, token) = app.customer().await;
    let rename = |token: String| {
        let app = &app;
        async move {
            app.request(Method::PATCH, "/me", Some(&token))
                .json(&json!({"name": "New Name"}))
                .send()
                .await
                .unwrap()
        }
    };
    assert_eq!(rename(token.clone()).await.status(), StatusCode::ACCEPTED);
    let logout = app
        .request(Method::POST, "/auth/logout", Some(&token))
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    problem(rename(token).await, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn requests_without_a_valid_token_are_unauthorized() {
    let app = spawn_app().await;
    let none = app
        .request(Method::PATCH, "/me", None)
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    problem(none, StatusCode::UNAUTHORIZED).await;
    let forged = app
        .request(
            Method::PATCH,
            "/me",
            Some("eyJhbGciOiJIUzI1NiJ9.e30.invalid"),
        )
        .json(&json!({"name": "X"}))
        .send()
        .await
        .unwrap();
    problem(forged, StatusCode::UNAUTHORIZED).await;
}

#[tokio::test]
async fn renaming_with_a_stale_if_match_is_refused() {
    let app = spawn_app().await;
    let (_, token) = app.customer().await;
    let stale = app
        .request(Method::PATCH, "/me", Some(&token))
        .header("if-match", "\"7\"")
        .json(&json!({"name": "New"}))
        .send()
        .await
        .unwrap();
    problem(stale, StatusCode::PRECONDITION_FAILED).await;
    let current = app
        .request(Method::PATCH, "/me", Some(&token))
        .header("if-match", "\"1\"")
        .json(&json!({"name": "New"}))
        .send()
        .await
        .unwrap();
    assert_eq!(current.status(), StatusCode::ACCEPTED);
    assert_eq!(current.headers()["etag"], "\"2\"");
}

/// A login sent as if through a proxy that was reached from `client`.
async fn login_from(app: &TestApp, client: &str, email: &str, password: &str) -> reqwest::Response {
    app.request(Method::POST, "/auth/login", None)
        .header("x-forwarded-for", client)
        .json(&json!({"email": email, "password": password}))
        .send()
        .await
        .unwrap()
}

#[tokio::test]
async fn thirty_wrong_logins_sent_at_once_get_at_most_ten_failures_checked() {
    let app = spawn_app().await;
    app.register("burst@example.com", "correct horse battery")
        .await;
    let answers = join_all((0..30).map(|_| app.login("burst@example.com", "wrong"))).await;
    let statuses: Vec<StatusCode> = answers.iter().map(|a| a.status()).collect();
    let checked = statuses
        .iter()
        .filter(|s| **s == StatusCode::UNAUTHORIZED)
        .count();
    assert!(
        checked <= 10,
        "{checked} wrong passwords were checked: {statuses:?}"
    );
    assert!(
        statuses
            .iter()
            .all(|s| *s == StatusCode::UNAUTHORIZED || *s == StatusCode::TOO_MANY_REQUESTS),
        "{statuses:?}"
    );
    for answer in answers
        .into_iter()
        .filter(|a| a.status() == StatusCode::TOO_MANY_REQUESTS)
    {
        assert!(answer.headers().contains_key("retry-after"));
    }
}

#[tokio::test]
async fn x_forwarded_for_is_believed_only_from_a_trusted_proxy() {
    // No trusted proxy: a forged header does not buy a fresh budget.
    let app = spawn_app().await;
    for _ in 0..10 {
        let answer = login_from(&app, "198.51.100.1", "forged@example.com", "wrong").await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let forged = login_from(&app, "198.51.100.2", "forged@example.com", "wrong").await;
    problem(forged, StatusCode::TOO_MANY_REQUESTS).await;

    // Behind a trusted proxy, each client has its own budget, and only the right-most untrusted address
    // counts: what a client writes to the left of it is its own claim.
    let proxied = spawn_app_with(&[("SHOP_TRUSTED_PROXIES", "127.0.0.1/32")]).await;
    for _ in 0..10 {
        let answer = login_from(&proxied, "203.0.113.1", "proxied@example.com", "wrong").await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let same = login_from(&proxied, "203.0.113.1", "proxied@example.com", "wrong").await;
    problem(same, StatusCode::TOO_MANY_REQUESTS).await;
    let spoofed = login_from(
        &proxied,
        "203.0.113.2, 203.0.113.1",
        "proxied@example.com",
        "wrong",
    )
    .await;
    problem(spoofed, StatusCode::TOO_MANY_REQUESTS).await;
    let other = login_from(&proxied, "203.0.113.2", "proxied@example.com", "wrong").await;
    assert_eq!(other.status(), StatusCode::UNAUTHORIZED);
}

#[tokio::test]
async fn a_flood_on_one_email_holds_back_failing_clients_but_not_the_owner_on_a_fresh_one() {
    let app = spawn_app_with(&[
        ("SHOP_TRUSTED_PROXIES", "127.0.0.1/32"),
        ("SHOP_LOGIN_EMAIL_BRAKE_PER_MINUTE", "5"),
    ])
    .await;
    app.register("owner@example.com", "correct horse battery")
        .await;
    for n in 1..=5 {
        let answer = login_from(
            &app,
            &format!("203.0.113.{n}"),
            "owner@example.com",
            "wrong",
        )
        .await;
        assert_eq!(answer.status(), StatusCode::UNAUTHORIZED);
    }
    let attacker = login_from(&app, "203.0.113.1", "owner@example.com", "wrong").await;
    assert!(attacker.headers().contains_key("retry-after"));
    problem(attacker, StatusCode::TOO_MANY_REQUESTS).await;
    let owner = login_from(
        &app,
        "192.0.2.10",
        "owner@example.com",
        "correct horse battery",
    )
    .await;
    assert_eq!(owner.status(), StatusCode::OK);
}

#[tokio::test]
async fn password_checks_past_the_cap_are_refused_at_once_not_queued() {
    let app = spawn_app_with(&[
        ("SHOP_TRUSTED_PROXIES", "127.0.0.1/32"),
        ("SHOP_PASSWORD_HASHES_AT_ONCE", "1"),
    ])
    .await;
    let answers = join_all((0..20).map(|n| {
        let client = format!("203.0.113.{n}");
        let email = format!("nobody{n}@example.com");
        let app = &app;
        async move { login_from(app, &client, &email, "wrong").await }
    }))
    .await;
    let mut busy = 0;
    for answer in answers {
        match answer.status() {
            StatusCode::UNAUTHORIZED => {}
            StatusCode::TOO_MANY_REQUESTS => {
                assert_eq!(answer.headers()["retry-after"], "1");
                assert_eq!(
                    problem(answer, StatusCode::TOO_MANY_REQUESTS).await["type"],
                    "/problems/busy"
                );
                busy += 1;
            }
            other => panic!("{other}"),
        }
    }
    assert!(busy > 0, "twenty checks at once with room for one");
}

#[tokio::test]
async fn an_address_with_a_display_name_is_refused_and_one_mailbox_has_one_spelling() {
    let app = spawn_app().await;
    for forged in ["x<victim@b.c>", "Eve <victim@b.c>", "victim@b.c (eve)"] {
        assert!(
            problem_has_field(app.register(forged, "correct horse battery").await, "email").await,
            "{forged}"
        );
    }
    let first = app
        .register("Jose\u{301}@Example.com", "correct horse battery")
        .await;
    assert_eq!(first.status(), StatusCode::CREATED);
    let again = app
        .register("jos\u{e9}@example.com", "correct horse battery")
        .await;
    problem(again, StatusCode::CONFLICT).await;
    let login = app
        .login("JOSE\u{301}@example.com", "correct horse battery")
        .await;
    assert_eq!(login.status(), StatusCode::OK, "either spelling logs in");
}

#[tokio::test]
async fn the_session_cookie_authenticates_reads_and_writes_that_carry_the_csrf_header_until_logout()
{
    let app = spawn_app().await;
    let email = "cookie@example.com";
    let registered = body(app.register(email, "correct horse battery").await).await;
    let registered_at = registered["position"].as_str().unwrap().to_owned();
    let login = app.login(email, "correct horse battery").await;
    assert_eq!(login.status(), StatusCode::OK);
    let set = login
        .headers()
        .get("set-cookie")
        .expect("the login sets the session cookie")
        .to_str()
        .unwrap()
        .to_owned();
    let token = body(login).await["access_token"]
        .as_str()
        .unwrap()
        .to_owned();
    for attribute in ["HttpOnly", "Secure", "SameSite=Strict", "Path=/api/v1"] {
        assert!(set.contains(attribute), "{attribute} missing in {set}");
    }
    assert!(set.starts_with(&format!("shop_session={token};")), "{set}");
    let cookie = format!("theme=dark; shop_session={token}");
    let with_cookie = |method: Method, path: &str| {
        app.request(method, path, None)
            .header("cookie", cookie.clone())
    };

    let me = with_cookie(Method::GET, "/me")
        .header("x-min-position", registered_at)
        .send()
        .await
        .unwrap();
    assert_eq!(me.status(), StatusCode::OK);
    assert_eq!(body(me).await["email"], email);

    // A write carried by the cookie alone is what a cross-site form could send: refused, and nothing written.
    let forged = with_cookie(Method::PATCH, "/me")
        .json(&json!({"name": "Forged"}))
        .send()
        .await
        .unwrap();
    let refused = problem(forged, StatusCode::FORBIDDEN).await;
    assert_eq!(refused["type"], "/problems/csrf_header_missing");
    let renamed = with_cookie(Method::PATCH, "/me")
        .header("x-requested-with", "shop-storefront")
        .json(&json!({"name": "Cookie Monster"}))
        .send()
        .await
        .unwrap();
    assert_eq!(renamed.status(), StatusCode::ACCEPTED);
    let position = body(renamed).await["position"].as_str().unwrap().to_owned();
    let me = with_cookie(Method::GET, "/me")
        .header("x-min-position", position)
        .send()
        .await
        .unwrap();
    assert_eq!(body(me).await["name"], "Cookie Monster", "only one rename");

    let logout = with_cookie(Method::POST, "/auth/logout")
        .header("x-requested-with", "shop-storefront")
        .send()
        .await
        .unwrap();
    assert_eq!(logout.status(), StatusCode::NO_CONTENT);
    let cleared = logout.headers()["set-cookie"].to_str().unwrap();
    assert!(
        cleared.starts_with("shop_session=;") && cleared.contains("Max-Age=0"),
        "{cleared}"
    );
    let after = with_cookie(Method::GET, "/me").send().await.unwrap();
    problem(after, StatusCode::UNAUTHORIZED).await;
}
