//! `shop seed`: a realistic catalog, customers and orders, written through the command bus like any client's
//! commands (with their uniqueness claims), so every read model and the audit chain see ordinary events.

use std::collections::HashMap;
use std::sync::Arc;

use anyhow::Context;
use chrono::Utc;
use command_api::usecases::checkout::{self, CheckOut};
use command_api::usecases::images::{self, Images, Prepared};
use domain::cart::{Cart, CartCommand, ProductSnapshot};
use domain::product::{Product, ProductCommand};
use domain::user::{User, UserCommand};
use domain::{
    Address, Currency, Email, ImageId, Money, OrderId, PasswordHash, PaymentMethod, ProductId,
    Quantity, Role, Sku, UserId,
};
use eventstore::claims::ClaimKind;
use eventstore::{CommandBus, CommandMetadata};
use futures::{StreamExt, TryStreamExt};
use platform::Settings;
use rand::Rng;
use rand::seq::IndexedRandom;
use uuid::Uuid;

use crate::startup::Stores;

const ADJECTIVES: [&str; 12] = [
    "Blue", "Red", "Organic", "Classic", "Vintage", "Compact", "Wool", "Linen", "Ceramic", "Steel",
    "Bamboo", "Leather",
];
const THINGS: [(&str, &str); 12] = [
    ("Shirt", "Clothing"),
    ("Sweater", "Clothing"),
    ("Scarf", "Accessories"),
    ("Wallet", "Accessories"),
    ("Mug", "Kitchen"),
    ("Teapot", "Kitchen"),
    ("Knife", "Kitchen"),
    ("Lamp", "Home"),
    ("Cushion", "Home"),
    ("Notebook", "Stationery"),
    ("Pen", "Stationery"),
    ("Backpack", "Bags"),
];
const FIRST_NAMES: [&str; 8] = [
    "Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Frances", "Ken",
];
/// Every seeded customer's password, so demos can log in as any of them.
pub const SEED_PASSWORD: &str = "password123";
/// Commands in flight at once while seeding.
const CONCURRENCY: usize = 16;

#[derive(Clone)]
struct SeededProduct {
    snapshot: ProductSnapshot,
}

pub async fn run(
    settings: &Settings,
    products: u64,
    customers: u64,
    orders: u64,
    if_empty: bool,
    images: bool,
) -> anyhow::Result<()> {
    let stores = Stores::open(settings).await?;
    if if_empty
        && eventstore::Feed::new(stores.pool.clone())
            .has_events_of("product")
            .await?
    {
        println!("the store already has products; not seeding");
        return Ok(());
    }
    let bus = stores.bus.clone();
    let run_id = &Uuid::now_v7().simple().to_string()[20..];
    let pictures = if images {
        seed_pictures(&Images::new(stores.media.clone(), 2)).await?
    } else {
        HashMap::new()
    };
    let catalog = seed_products(&bus, &pictures, products, run_id).await?;
    println!("seeded {} products", catalog.len());
    let people = seed_customers(&bus, customers, run_id).await?;
    println!(
        "seeded {} customers (password {SEED_PASSWORD:?})",
        people.len()
    );
    let placed = seed_orders(&bus, &catalog, &people, orders).await?;
    println!("seeded {placed} orders");
    Ok(())
}

fn meta() -> CommandMetadata {
    let mut meta = CommandMetadata::new_chain();
    meta.causation_id = Some("cli:seed".to_owned());
    meta
}

/// One generated picture per kind of thing (a gradient in two colours), stored once; every product of that
/// kind shows it. Files before events, as an upload does.
async fn seed_pictures(images: &Images) -> anyhow::Result<HashMap<&'static str, Prepared>> {
    let mut pictures = HashMap::new();
    for (n, (thing, _)) in THINGS.iter().enumerate() {
        let hue = |shift: usize| PALETTE[(n + shift) % PALETTE.len()];
        let jpeg = images::generated_jpeg(1200, 900, hue(0), hue(5));
        let prepared = images.prepare(jpeg.into()).await?;
        images.store(&prepared).await?;
        pictures.insert(*thing, prepared);
    }
    Ok(pictures)
}

const PALETTE: [[u8; 3]; 8] = [
    [0x1f, 0x6f, 0xb4],
    [0xd9, 0x5d, 0x39],
    [0x3a, 0x9d, 0x5d],
    [0xe0, 0xb0, 0x30],
    [0x7b, 0x4b, 0xa8],
    [0x2a, 0x9d, 0xa8],
    [0xc2, 0x3b, 0x6e],
    [0x55, 0x5f, 0x6b],
];

async fn seed_products(
    bus: &Arc<CommandBus>,
    pictures: &HashMap<&'static str, Prepared>,
    count: u64,
    run_id: &str,
) -> anyhow::Result<Vec<SeededProduct>> {
    let eur = Currency::parse("EUR")?;
    futures::stream::iter(0..count)
        .map(|n| {
            let bus = bus.clone();
            async move {
                let (adjective, (thing, category), price, stock) = {
                    let mut rng = rand::rng();
                    (
                        *ADJECTIVES.choose(&mut rng).unwrap_or(&"Plain"),
                        *THINGS.choose(&mut rng).unwrap_or(&("Thing", "Misc")),
                        rng.random_range(199..20_000) / 10 * 10 + 9,
                        rng.random_range(0..200),
                    )
                };
                let id = ProductId::new(Uuid::now_v7());
                let sku = Sku::parse(&format!("{}-{}-{run_id}-{n}", &thing[..3], &adjective[..3]))?;
                let name = format!("{adjective} {thing}");
                let price = Money::new(price, eur)?;
                let picture = pictures
                    .get(thing)
                    .map(|p| p.image(ImageId::new(Uuid::now_v7()), name.clone()));
                let command = ProductCommand::Create {
                    product_id: id,
                    sku: sku.clone(),
                    name: name.clone(),
                    description: format!(
                        "A {} {} that lasts for years.",
                        adjective.to_lowercase(),
                        thing.to_lowercase()
                    ),
                    category: category.to_owned(),
                    price,
                    stock,
                    at: Utc::now(),
                };
                // The SKU's claim commits with the product, as through the API.
                let metadata = meta();
                let mut unit = bus.unit(&metadata);
                unit.claim(ClaimKind::Sku, sku.as_str(), &id.to_string());
                unit.decide::<Product>(&id.to_string(), command, None)
                    .await?;
                if let Some(image) = picture {
                    let add = ProductCommand::AddImage {
                        image,
                        at: Utc::now(),
                    };
                    unit.decide::<Product>(&id.to_string(), add, None).await?;
                }
                unit.commit().await?;
                Ok::<_, anyhow::Error>(SeededProduct {
                    snapshot: ProductSnapshot {
                        product_id: id,
                        sku,
                        name,
                        unit_price: price,
                        discontinued: false,
                    },
                })
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await
}

async fn seed_customers(
    bus: &Arc<CommandBus>,
    count: u64,
    run_id: &str,
) -> anyhow::Result<Vec<UserId>> {
    // One hash for all: argon2 is slow on purpose, and these accounts share a password anyway.
    let hash = command_api::passwords::Hashing::new(1)
        .hash(SEED_PASSWORD.to_owned())
        .await?
        .map_err(|e| anyhow::anyhow!("hashing the seed password: {e}"))?;
    futures::stream::iter(0..count)
        .map(|n| {
            let (bus, hash) = (bus.clone(), hash.clone());
            async move {
                let id = UserId::new(Uuid::now_v7());
                let email = Email::parse(&format!("customer{n}-{run_id}@example.com"))?;
                let claimed = email.as_str().to_owned();
                let name = format!(
                    "{} Customer{n}",
                    FIRST_NAMES[n as usize % FIRST_NAMES.len()]
                );
                let command = UserCommand::Register {
                    user_id: id,
                    email,
                    name,
                    password_hash: PasswordHash::new(hash),
                    role: Role::Customer,
                    at: Utc::now(),
                };
                let metadata = meta();
                let mut unit = bus.unit(&metadata);
                unit.claim(ClaimKind::Email, &claimed, &id.to_string());
                unit.decide::<User>(&id.to_string(), command, None).await?;
                unit.commit().await?;
                Ok::<_, anyhow::Error>(id)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_collect()
        .await
}

/// Orders as the API makes them: items into the customer's cart, then checkout into a pending order.
async fn seed_orders(
    bus: &Arc<CommandBus>,
    catalog: &[SeededProduct],
    people: &[UserId],
    count: u64,
) -> anyhow::Result<u64> {
    if catalog.is_empty() || people.is_empty() {
        return Ok(0);
    }
    let address = Address::parse(
        "Ada Lovelace",
        "12 Analytical Street",
        None,
        "London",
        "N1 9GU",
        "GB",
    )
    .map_err(|e| anyhow::anyhow!("seed address: {e:?}"))?;
    let method = PaymentMethod::parse("pm_card_visa")?;
    // Orders of one customer go one after another (they share a cart); customers go in parallel.
    let per_customer: Vec<(UserId, u64)> = people
        .iter()
        .enumerate()
        .map(|(i, id)| {
            (
                *id,
                count / people.len() as u64 + u64::from((i as u64) < count % people.len() as u64),
            )
        })
        .collect();
    let placed = futures::stream::iter(per_customer)
        .map(|(user, orders)| {
            let (bus, address, method) = (bus.clone(), address.clone(), method.clone());
            async move {
                for _ in 0..orders {
                    place_order(&bus, catalog, user, &address, &method).await?;
                }
                Ok::<_, anyhow::Error>(orders)
            }
        })
        .buffer_unordered(CONCURRENCY)
        .try_fold(0, |sum, n| async move { Ok(sum + n) })
        .await?;
    Ok(placed)
}

async fn place_order(
    bus: &CommandBus,
    catalog: &[SeededProduct],
    user: UserId,
    address: &Address,
    method: &PaymentMethod,
) -> anyhow::Result<()> {
    let picks: Vec<(SeededProduct, i64)> = {
        let mut rng = rand::rng();
        let lines = rng.random_range(1..=3usize).min(catalog.len());
        catalog
            .choose_multiple(&mut rng, lines)
            .map(|p| (p.clone(), rng.random_range(1..=3)))
            .collect()
    };
    let cart = user.to_string();
    for (product, quantity) in picks {
        let add = CartCommand::AddItem {
            product: product.snapshot.clone(),
            quantity: Quantity::new(quantity)?,
            at: Utc::now(),
        };
        bus.execute::<Cart>(&cart, add, &meta(), None).await?;
    }
    // Checked out as at the API: the cart and the order commit together.
    let checkout = CheckOut {
        user_id: user,
        order_id: OrderId::new(Uuid::now_v7()),
        shipping_address: address.clone(),
        payment_method: method.clone(),
    };
    checkout::check_out(bus, checkout, &meta())
        .await
        .context("placing a seeded order")?;
    Ok(())
}
