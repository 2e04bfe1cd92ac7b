//! The key of a cached session: a digest of everything that makes one session different from
//! another. Both the in-memory cache (`sessions.rs`) and the shared caches (`shared/`) are
//! indexed by it; it holds no secret.

use aws_lc_rs::digest;

use super::config::{ClientConfig, Service};
use super::credentials::Credentials;

/// A SHA-256 digest of (service, server, site, API version, impersonation, identity, trust settings).
pub type CacheKey = [u8; 32];

/// The key for a configuration and credentials. Holds no secret: the identity part is
/// already a keyed digest, and the whole is hashed again. The trust settings are part of it:
/// a client that checks certificates never uses a session an unchecked one obtained.
pub fn cache_key(cfg: &ClientConfig, creds: &Credentials) -> CacheKey {
    let mut ctx = digest::Context::new(&digest::SHA256);
    let identity = creds.identity_digest();
    let trust = cfg.transport.trust_identity();
    let service: &[u8] = match cfg.service {
        Service::Site => b"site",
        Service::CloudManager => b"cloud-manager",
    };
    let fields: [&[u8]; 7] = [
        service,
        cfg.server.as_bytes(),
        cfg.site.as_bytes(),
        cfg.api_version.as_bytes(),
        cfg.impersonate.as_deref().unwrap_or("").as_bytes(),
        &identity,
        trust.as_bytes(),
    ];
    for f in fields {
        ctx.update(&(f.len() as u64).to_le_bytes());
        ctx.update(f);
    }
    let mut key = [0u8; 32];
    key.copy_from_slice(ctx.finish().as_ref());
    key
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cfg(site: &str) -> ClientConfig {
        crate::config::test_config(site)
    }

    #[test]
    fn keys_differ_by_site_and_secret_and_hold_no_secret() {
        let a = Credentials::personal_access_token("n", "secret-one").unwrap();
        let b = Credentials::personal_access_token("n", "secret-two").unwrap();
        let k = cache_key(&cfg("x"), &a);
        assert_eq!(k, cache_key(&cfg("x"), &a));
        assert_ne!(k, cache_key(&cfg("y"), &a));
        assert_ne!(k, cache_key(&cfg("x"), &b));
        assert!(!k.windows(3).any(|w| w == b"sec"));
    }
}
