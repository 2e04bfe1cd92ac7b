//! The pure-Rust core. Nothing below this folder knows about Python.

pub mod api;
pub mod client;
pub mod config;
pub mod credentials;
pub mod error;
pub mod fake;
pub mod jwt;
pub mod keys;
pub mod retry;
pub mod secret;
pub mod session;
pub mod sessions;
pub mod shared;
pub mod signin;
pub mod transport;
pub mod wire;
