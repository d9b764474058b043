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
                     when the process starts (docs/adr/0013): restart a query process to rebuild it"
                ),
                "users" => $acc($action::<UserProfile>($stores).await?),
                "orders" => $acc($action::<OrderView>($stores).await?),
                "product_details" => $acc($action::<ProductDetails>($stores).await?),
                "stock" => $acc($action::<Stock>($stores).await?),
                "carts" => $acc($action::<CartView>($stores).await?),
                "notifications" => $acc($action::<NotificationView>($stores).await?),
                other => bail!(
                    "no projector {other:?}; the projectors are {}",
                    projectors::views::ALL.join(", ")
                ),
            }
        }
    };
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
