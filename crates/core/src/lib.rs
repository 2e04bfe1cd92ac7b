//! tca-core: the pure-Rust core of tableau_connected_auth. Nothing here knows about Python or the fake.

pub mod api;
mod cache_key;
pub mod client;
pub mod cloud_manager;
pub mod config;
pub mod credentials;
pub mod error;
pub mod jwt;
pub mod keys;
pub mod metadata;
mod missing_scopes;
pub mod pages;
pub mod pulse;
pub mod redact;
pub mod retry;
pub mod scopes;
pub mod session;
mod sessions;
pub mod shared;
pub mod signin;
pub mod stats;
pub mod transport;
pub mod vds;
pub mod wire;
