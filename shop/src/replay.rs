//! `shop replay`: rebuild read models from the event store, or verify them against a rebuild.

use std::io::Write;

use anyhow::bail;
use platform::Settings;
use projectors::View;
use projectors::replay::{self, Progress};
use projectors::views::carts::CartView;
use projectors::views::notifications::NotificationView;
use projectors::views::orders::OrderView;
use projectors::views::product_cache::ProductDetails;
use projectors::views::promotions::PromotionView;
use projectors::views::stock::Stock;
use projectors::views::users::UserProfile;

use crate::startup::Stores;

/// A one-line progress bar on stderr: events done, events per second, time left.
fn progress_bar(name: &'static str) -> impl FnMut(Progress) {
    move |p: Progress| {
        let width = 30;
        let filled = (p.done * width as u64)
            .checked_div(p.total)
            .map_or(width, |f| f as usize);
        let _ = write!(
            std::io::stderr(),
            "\r{name:<16} [{}{}] {}/{} events  {:>8.0} ev/s  {:>4}s left ",
            "#".repeat(filled.min(width)),
            " ".repeat(width - filled.min(width)),
            p.done,
            p.total,
            p.rate(),
            p.remaining().as_secs(),
        );
    }
}

async fn rebuild<V: View>(stores: &Stores) -> anyhow::Result<()> {
    let events = replay::replay::<V>(&stores.pool, &stores.read, progress_bar(V::NAME)).await?;
    eprintln!();
    println!(
        "{}: rebuilt from {events} events and switched to the new copy",
        V::NAME
    );
    Ok(())
}

async fn verify<V: View>(stores: &Stores) -> anyhow::Result<usize> {
    let differences =
        replay::verify::<V>(&stores.pool, &stores.read, progress_bar(V::NAME)).await?;
    eprintln!();
    if differences.is_empty() {
        println!("{}: identical to a rebuild", V::NAME);
    }
    for d in &differences {
        println!("{}: document {} differs", V::NAME, d.key);
        println!(
            "    live:    {}",
            d.live
                .as_ref()
                .map_or("(missing)".to_owned(), |v| v.to_string())
        );
        println!(
            "    rebuilt: {}",
            d.rebuilt
                .as_ref()
                .map_or("(missing)".to_owned(), |v| v.to_string())
        );
    }
    Ok(differences.len())
}

/// Runs `action` for the named projector, or all of them.
macro_rules! for_views {
    ($names:expr, $action:ident, $stores:expr, $acc:expr) => {
        for name in $names {
            match name.as_str() {
                "catalog" => bail!(
                    "the catalog is each query process's own search index, built from the event feed \
                     when the process starts (docs/adr/0013): restart a query process to rebuild it, \
                     and compare one with a rebuild with --projector catalog --verify --instance URL"
                ),
                "users" => $acc($action::<UserProfile>($stores).await?),
                "orders" => $acc($action::<OrderView>($stores).await?),
                "product_details" => $acc($action::<ProductDetails>($stores).await?),
                "stock" => $acc($action::<Stock>($stores).await?),
                "carts" => $acc($action::<CartView>($stores).await?),
                "notifications" => $acc($action::<NotificationView>($stores).await?),
                "promotions" => $acc($action::<PromotionView>($stores).await?),
                other => bail!(
                    "no projector {other:?}; the projectors are {}",
                    projectors::views::ALL.join(", ")
                ),
            }
        }
    };
}

/// `shop replay`: what its flags ask for, or why they ask for nothing.
pub async fn command(
    settings: &Settings,
    all: bool,
    projector: Option<String>,
    verify: bool,
    instance: Option<String>,
) -> anyhow::Result<()> {
    if !all && projector.is_none() && !verify {
        bail!("say what to replay: --all or --projector NAME (see shop replay --help)");
    }
    match instance {
        Some(instance) if projector.as_deref() == Some("catalog") => {
            let differing = verify_catalog(settings, &instance).await?;
            if differing > 0 {
                bail!("{differing} differences from a rebuild");
            }
            Ok(())
        }
        Some(_) => bail!("--instance goes with --projector catalog --verify"),
        None => run(settings, projector, verify).await,
    }
}

pub async fn run(
    settings: &Settings,
    projector: Option<String>,
    check_only: bool,
) -> anyhow::Result<()> {
    let stores = Stores::open(settings).await?;
    let names: Vec<String> = match projector {
        Some(name) => vec![name],
        None => projectors::views::ALL
            .iter()
            .map(|s| (*s).to_owned())
            .collect(),
    };
    if check_only {
        let mut differing = 0;
        for_views!(names, verify, &stores, |n: usize| differing += n);
        if differing > 0 {
            bail!("{differing} documents differ from a rebuild");
        }
    } else {
        for_views!(names, rebuild, &stores, |(): ()| ());
    }
    Ok(())
}

/// Compares the catalog index of the query instance at `instance` with one built here from the feed up to
/// the position the instance serves: every listed document and the facets of the whole catalog. Prints each
/// difference; returns how many there are.
pub async fn verify_catalog(settings: &Settings, instance: &str) -> anyhow::Result<usize> {
    use anyhow::Context;
    use projectors::search::{CatalogIndex, Snapshot};

    // The CLI holds the shop's secrets: it signs itself a short administrator's token.
    let tokens = platform::tokens::TokenService::new(
        settings.jwt_secret.expose().as_bytes(),
        std::time::Duration::from_secs(60),
    );
    let (token, _) = tokens
        .issue(&uuid::Uuid::nil().to_string(), "admin", chrono::Utc::now())
        .context("could not sign a token")?;
    let url = format!(
        "{}/api/v1/admin/catalog/snapshot",
        instance.trim_end_matches('/')
    );
    let answer = reqwest::Client::new()
        .get(&url)
        .bearer_auth(token)
        .send()
        .await
        .with_context(|| format!("could not reach {url}"))?;
    if !answer.status().is_success() {
        bail!(
            "{url} answered {}: {}",
            answer.status(),
            answer.text().await.unwrap_or_default()
        );
    }
    let served: Snapshot = answer
        .json()
        .await
        .with_context(|| format!("{url} did not answer with a catalog snapshot"))?;

    let pool = eventstore::connect(settings.database_url.expose(), 4)?;
    let shadow = CatalogIndex::with_answer_cache(false)?;
    shadow
        .build_to(&eventstore::Feed::new(pool), served.position)
        .await?;
    let rebuilt = shadow
        .current()?
        .context("the shadow index was not published")?;

    let differences = catalog_differences(&served, &rebuilt);
    for difference in &differences {
        println!("catalog: {difference}");
    }
    if differences.is_empty() {
        println!(
            "catalog: {instance} serves {} products at {}, identical to a rebuild",
            served.products.len(),
            served.position
        );
    }
    Ok(differences.len())
}

/// What differs between an instance's snapshot and a rebuild's, one line each.
fn catalog_differences(
    served: &projectors::search::Snapshot,
    rebuilt: &projectors::search::Snapshot,
) -> Vec<String> {
    use std::collections::BTreeMap;

    use projectors::views::catalog::CatalogProduct;

    let by_id = |snapshot: &projectors::search::Snapshot| -> BTreeMap<String, CatalogProduct> {
        snapshot
            .products
            .iter()
            .map(|p| (p.id.clone(), p.clone()))
            .collect()
    };
    let shown = |product: &CatalogProduct| {
        serde_json::to_string(product).unwrap_or_else(|_| format!("{product:?}"))
    };
    let (live, shadow) = (by_id(served), by_id(rebuilt));
    let mut differences = Vec::new();
    for (id, document) in &live {
        match shadow.get(id) {
            None => differences.push(format!(
                "product {id} is listed but a rebuild has no such listing"
            )),
            Some(rebuilt) if rebuilt != document => differences.push(format!(
                "product {id} differs\n    live:    {}\n    rebuilt: {}",
                shown(document),
                shown(rebuilt)
            )),
            Some(_) => {}
        }
    }
    for id in shadow.keys().filter(|id| !live.contains_key(*id)) {
        differences.push(format!("product {id} is missing (a rebuild lists it)"));
    }
    if served.facets != rebuilt.facets {
        differences.push(format!(
            "facets differ\n    live:    {:?}\n    rebuilt: {:?}",
            served.facets, rebuilt.facets
        ));
    }
    differences
}
