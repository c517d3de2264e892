//! The store's tests. Each runs on SQLite and on PostgreSQL.

mod alert_feed;
mod audit;
mod backends;
mod exports;
mod files;
mod ledger;
mod runs;
mod segments;
mod token_refresh;
mod upgrade;
mod users;
