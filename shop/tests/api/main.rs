//! The HTTP API end to end: the real application on port 0, against the real PostgreSQL and Redis, each test
//! in its own database and Redis key prefix.

mod audit;
mod auth;
mod cart;
mod checkout;
mod cli;
mod helpers;
mod idempotency;
mod images;
mod logs;
mod messaging;
mod openapi;
mod operations;
mod orders;
mod products;
mod promotions;
mod reads;
