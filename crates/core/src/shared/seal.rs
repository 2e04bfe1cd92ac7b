//! Sealing cached sessions: what a shared cache stores is encrypted (AES-256-GCM) under a key
//! derived (HKDF-SHA256) from the credential's own secret and bound to the cache key, so only a
//! holder of that secret can use it, and a rotated secret simply misses.
//!
//! Entries are stored under a *storage id* derived from the same secret, so the name of a file or
//! Redis key tells nothing (not even which server or user) to anyone without the secret.
//!
//! Layout of a sealed entry: `MAGIC` (4) | token tag (32) | nonce (12) | ciphertext + GCM tag.
//! The token tag is an HMAC of the session token under another derived key: it lets a cache
//! remove an entry "only if it still holds this token" without decrypting (Redis does it in a
//! script), and tells nothing to anyone without the secret.

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use aws_lc_rs::aead::{Aad, LessSafeKey, Nonce, UnboundKey, AES_256_GCM, NONCE_LEN};
use aws_lc_rs::rand::{SecureRandom, SystemRandom};
use aws_lc_rs::{hkdf, hmac};
use serde::{Deserialize, Serialize};

use crate::cache_key::CacheKey;
use crate::redact::Secret;
use crate::session::{deadline_ns, monotonic_ns, Realm, Session};

/// Format version 2 of a sealed session (version 1 stretched passwords with fewer PBKDF2
/// rounds; its entries simply miss and are replaced).
pub const MAGIC: &[u8; 4] = b"TCA\x02";
pub const TAG_LEN: usize = 32;
/// Bytes before the ciphertext: magic, token tag, nonce.
const HEADER_LEN: usize = MAGIC.len() + TAG_LEN + NONCE_LEN;
/// Sealed entries are small; anything larger than this is not ours.
pub const MAX_SEALED_LEN: usize = 64 << 10;

const SALT: &[u8] = b"tableau_connected_auth/shared-cache/v2";

/// The keys for one cache key and one credential secret.
pub struct Sealer {
    aead: LessSafeKey,
    tag: hmac::Key,
    key: CacheKey,
    storage_id: [u8; 32],
}

/// What is sealed: a session, with wall-clock times (monotonic clocks are per machine).
#[derive(Serialize, Deserialize)]
struct Stored {
    token: String,
    site_id: String,
    site_content_url: String,
    /// Set for a Tableau Cloud Manager session (then the site fields are empty). Entries
    /// written before it existed are site sessions.
    #[serde(default)]
    tenant_id: Option<String>,
    user_id: String,
    server: String,
    api_version: String,
    signed_in_at: f64,
    expires_at: Option<f64>,
    /// When the signing process planned to refresh it (seconds since the epoch).
    refresh_at: f64,
}

fn unix(t: SystemTime) -> f64 {
    t.duration_since(UNIX_EPOCH)
        .unwrap_or_default()
        .as_secs_f64()
}

fn from_unix(secs: f64) -> Option<SystemTime> {
    if !secs.is_finite() || secs < 0.0 {
        return None;
    }
    UNIX_EPOCH.checked_add(Duration::try_from_secs_f64(secs).ok()?)
}

impl Sealer {
    /// Keys derived from `secret` (the credential's own secret) for entries under `key`.
    pub fn new(secret: &[u8], key: CacheKey) -> Sealer {
        let prk = hkdf::Salt::new(hkdf::HKDF_SHA256, SALT).extract(secret);
        let aead_info: [&[u8]; 2] = [b"aes-256-gcm", &key];
        let tag_info: [&[u8]; 2] = [b"token-tag", &key];
        let id_info: [&[u8]; 2] = [b"storage-id", &key];
        let mut storage_id = [0u8; 32];
        prk.expand(&id_info, hkdf::HKDF_SHA256)
            .and_then(|okm| okm.fill(&mut storage_id))
            .expect("32-byte id");
        // expand() fails only for outputs longer than 255 hash lengths; these are 32 bytes.
        let aead = UnboundKey::from(prk.expand(&aead_info, &AES_256_GCM).expect("32-byte key"));
        let tag = hmac::Key::from(
            prk.expand(&tag_info, hmac::HMAC_SHA256)
                .expect("32-byte key"),
        );
        Sealer {
            aead: LessSafeKey::new(aead),
            tag,
            key,
            storage_id,
        }
    }

    /// Where the entry is stored (file name, Redis key): a keyed digest of the cache key.
    pub fn storage_id(&self) -> &[u8; 32] {
        &self.storage_id
    }

    /// The token tag of `token`: equal tags mean the same token, for holders of the secret.
    pub fn tag(&self, token: &str) -> [u8; TAG_LEN] {
        let mut out = [0u8; TAG_LEN];
        out.copy_from_slice(hmac::sign(&self.tag, token.as_bytes()).as_ref());
        out
    }

    /// `MAGIC` followed by the token tag: how a sealed entry for `token` starts.
    pub fn prefix(&self, token: &str) -> Vec<u8> {
        let mut p = MAGIC.to_vec();
        p.extend_from_slice(&self.tag(token));
        p
    }

    fn aad(&self) -> Aad<[u8; 36]> {
        let mut aad = [0u8; 36];
        aad[..4].copy_from_slice(MAGIC);
        aad[4..].copy_from_slice(&self.key);
        Aad::from(aad)
    }

    /// Seal `session`.
    pub fn seal(&self, session: &Session) -> Vec<u8> {
        let now_mono = monotonic_ns();
        let left = Duration::from_nanos(session.refresh_after_ns.saturating_sub(now_mono));
        let stored = Stored {
            token: session.token.expose().to_string(),
            site_id: session.site_id().to_string(),
            site_content_url: session.site_content_url().to_string(),
            tenant_id: session.tenant_id().map(str::to_string),
            user_id: session.user_id.clone(),
            server: session.server.clone(),
            api_version: session.api_version.clone(),
            signed_in_at: unix(session.signed_in_at),
            expires_at: session.expires_at.map(unix),
            refresh_at: unix(SystemTime::now() + left),
        };
        let mut body = serde_json::to_vec(&stored).expect("a session serializes");
        let mut nonce = [0u8; NONCE_LEN];
        SystemRandom::new()
            .fill(&mut nonce)
            .expect("the system random source works");
        self.aead
            .seal_in_place_append_tag(Nonce::assume_unique_for_key(nonce), self.aad(), &mut body)
            .expect("AES-GCM sealing of a small buffer");
        let mut out = Vec::with_capacity(HEADER_LEN + body.len());
        out.extend_from_slice(MAGIC);
        out.extend_from_slice(&self.tag(session.token.expose()));
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&body);
        out
    }

    /// The session in `sealed`, if it is ours (right format, right key, intact) and still worth
    /// using: not past its refresh point, nor older than `max_age`. Anything else is `None`.
    pub fn open(&self, sealed: &[u8], max_age: Duration) -> Option<Session> {
        if sealed.len() <= HEADER_LEN || sealed.len() > MAX_SEALED_LEN || &sealed[..4] != MAGIC {
            return None;
        }
        let tag = &sealed[4..4 + TAG_LEN];
        let nonce = Nonce::try_assume_unique_for_key(&sealed[4 + TAG_LEN..HEADER_LEN]).ok()?;
        let mut body = sealed[HEADER_LEN..].to_vec();
        let plain = self.aead.open_in_place(nonce, self.aad(), &mut body).ok()?;
        let stored: Stored = serde_json::from_slice(plain).ok()?;
        if self.tag(&stored.token).as_slice() != tag {
            return None;
        }
        let signed_in_at = from_unix(stored.signed_in_at)?;
        let now = SystemTime::now();
        let by_age = signed_in_at + max_age;
        let refresh_at = from_unix(stored.refresh_at)?.min(by_age);
        let left = refresh_at.duration_since(now).ok()?;
        if left.is_zero() {
            return None;
        }
        Some(Session {
            token: Secret::new(stored.token),
            realm: match stored.tenant_id {
                Some(id) => Realm::Tenant { id },
                None => Realm::Site {
                    id: stored.site_id,
                    content_url: stored.site_content_url,
                },
            },
            user_id: stored.user_id,
            server: stored.server,
            api_version: stored.api_version,
            signed_in_at,
            expires_at: stored.expires_at.and_then(from_unix),
            refresh_after_ns: deadline_ns(left),
            stored_in: Default::default(),
        })
    }

    /// How long a sealed `session` is worth keeping: until its refresh point.
    pub fn time_to_live(session: &Session) -> Duration {
        Duration::from_nanos(session.refresh_after_ns.saturating_sub(monotonic_ns()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    pub fn session(token: &str, fresh_for: Duration) -> Session {
        Session {
            token: Secret::new(token),
            realm: Realm::Site {
                id: "site-luid".into(),
                content_url: "sales".into(),
            },
            user_id: "user-luid".into(),
            server: "https://h".into(),
            api_version: "3.24".into(),
            signed_in_at: SystemTime::now(),
            expires_at: Some(SystemTime::now() + Duration::from_secs(7200)),
            refresh_after_ns: deadline_ns(fresh_for),
            stored_in: Default::default(),
        }
    }

    const HOUR: Duration = Duration::from_secs(3600);

    #[test]
    fn a_tenant_session_comes_back_as_one() {
        let sealer = Sealer::new(b"secret-one", [2; 32]);
        let mut s = session("tcm-token", Duration::from_secs(600));
        s.realm = Realm::Tenant {
            id: "tenant-1".into(),
        };
        let back = sealer.open(&sealer.seal(&s), HOUR).expect("opens");
        assert_eq!(
            back.realm,
            Realm::Tenant {
                id: "tenant-1".into()
            }
        );
        assert_eq!(back.header_name(), crate::session::CLOUD_MANAGER_HEADER);
    }

    #[test]
    fn entries_of_the_previous_format_version_miss() {
        let sealer = Sealer::new(b"secret", [1u8; 32]);
        let mut sealed = sealer.seal(&session("tok", Duration::from_secs(60)));
        assert!(sealer.open(&sealed, Duration::from_secs(3600)).is_some());
        sealed[..4].copy_from_slice(b"TCA\x01");
        assert!(sealer.open(&sealed, Duration::from_secs(3600)).is_none());
    }

    #[test]
    fn round_trip_keeps_every_field_and_no_token_in_clear() {
        let sealer = Sealer::new(b"secret-one", [1; 32]);
        let s = session("token-abcdef-123456", Duration::from_secs(600));
        let sealed = sealer.seal(&s);
        assert!(!sealed
            .windows(b"token-abcdef".len())
            .any(|w| w == b"token-abcdef"));
        assert!(!sealed.windows(5).any(|w| w == b"sales"));
        let back = sealer.open(&sealed, HOUR).expect("opens");
        assert_eq!(back.token.expose(), "token-abcdef-123456");
        assert_eq!(back.site_id(), "site-luid");
        assert_eq!(back.site_content_url(), "sales");
        assert_eq!(back.user_id, "user-luid");
        assert_eq!(back.api_version, "3.24");
        assert!(back.expires_at.is_some());
        let left = back.refresh_after_ns.saturating_sub(monotonic_ns());
        assert!(left > 590_000_000_000 && left <= 601_000_000_000, "{left}");
        assert!(sealed.starts_with(&sealer.prefix("token-abcdef-123456")));
    }

    #[test]
    fn another_secret_or_key_cannot_open_it() {
        let s = session("tok", Duration::from_secs(600));
        let sealed = Sealer::new(b"secret-one", [1; 32]).seal(&s);
        assert!(Sealer::new(b"secret-two", [1; 32])
            .open(&sealed, HOUR)
            .is_none());
        assert!(Sealer::new(b"secret-one", [2; 32])
            .open(&sealed, HOUR)
            .is_none());
        let id = *Sealer::new(b"secret-one", [1; 32]).storage_id();
        assert_eq!(id, *Sealer::new(b"secret-one", [1; 32]).storage_id());
        assert_ne!(id, *Sealer::new(b"secret-two", [1; 32]).storage_id());
        assert_ne!(id, [1; 32]);
    }

    #[test]
    fn damaged_or_foreign_bytes_are_refused() {
        let sealer = Sealer::new(b"k", [3; 32]);
        let sealed = sealer.seal(&session("tok", Duration::from_secs(600)));
        for cut in [0, 3, 4, 20, HEADER_LEN, sealed.len() - 1] {
            assert!(sealer.open(&sealed[..cut], HOUR).is_none(), "cut at {cut}");
        }
        for i in [0, 10, HEADER_LEN - 1, HEADER_LEN + 2, sealed.len() - 1] {
            let mut flipped = sealed.clone();
            flipped[i] ^= 0x40;
            assert!(sealer.open(&flipped, HOUR).is_none(), "flipped byte {i}");
        }
        assert!(sealer.open(b"{\"token\": \"x\"}", HOUR).is_none());
        assert!(sealer.open(&vec![0u8; MAX_SEALED_LEN + 1], HOUR).is_none());
    }

    #[test]
    fn stale_or_too_old_sessions_are_not_opened() {
        let sealer = Sealer::new(b"k", [4; 32]);
        let stale = sealer.seal(&session("tok", Duration::ZERO));
        assert!(sealer.open(&stale, HOUR).is_none());
        let fresh = sealer.seal(&session("tok", Duration::from_secs(600)));
        assert!(sealer.open(&fresh, Duration::ZERO).is_none());
        let opened = sealer.open(&fresh, Duration::from_secs(60)).unwrap();
        let left = opened.refresh_after_ns.saturating_sub(monotonic_ns());
        assert!(left <= 60_000_000_000, "max_age shortens the life: {left}");
    }
}
