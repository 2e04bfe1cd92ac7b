//! Public keys of external authorization servers (EAS) and unified-access-token (UAT)
//! configurations, and the signature check of their JWTs.
//!
//! A key is registered as a SubjectPublicKeyInfo PEM (`-----BEGIN PUBLIC KEY-----`, read with the
//! `pem` crate) and kept as its DER bytes plus its kind, which aws-lc-rs tells (RSA size limits
//! included); the signature is checked with aws-lc-rs at sign-in time.
//!
//! | kind | accepted | JWT `alg` it verifies |
//! |---|---|---|
//! | RSA | 2048..=8192 bits (smaller: refused, Tableau's 10088) | `RS256` `RS384` `RS512` `PS256` `PS384` `PS512` |
//! | EC | curve P-256 / P-384 (others refused) | `ES256` (P-256) / `ES384` (P-384), fixed-length `r‖s` signatures |
//! | Ed25519 | | `EdDSA` |

use aws_lc_rs::signature::{self, ParsedPublicKey, UnparsedPublicKey, VerificationAlgorithm};

/// What a registered public key is.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyKind {
    Rsa,
    EcP256,
    EcP384,
    Ed25519,
}

/// A registered public key: its kind and its SubjectPublicKeyInfo DER.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) struct PublicKey {
    pub kind: KeyKind,
    pub der: Vec<u8>,
}

/// Parses one SubjectPublicKeyInfo PEM block (surrounding whitespace allowed, nothing else)
/// into a key the fake can verify with; the `pem` crate reads the block, aws-lc-rs the key.
/// The `Err` says what is wrong, for the test author.
pub(crate) fn parse_public_key_pem(public_key_pem: &str) -> Result<PublicKey, String> {
    const SHAPE: &str =
        "not a PEM block \"-----BEGIN PUBLIC KEY-----\" … \"-----END PUBLIC KEY-----\"";
    let text = public_key_pem.trim();
    if !text.starts_with("-----BEGIN ") || !text.ends_with("-----") {
        return Err(SHAPE.into());
    }
    if text.matches("-----BEGIN ").count() > 1 {
        return Err("more than one PEM block".into());
    }
    let block = pem::parse(text).map_err(|e| format!("{SHAPE}: {e}"))?;
    match block.tag() {
        "PUBLIC KEY" => {}
        tag if tag.contains("PRIVATE KEY") => {
            return Err("this PEM holds a private key; register the public key".into())
        }
        "RSA PUBLIC KEY" => {
            return Err(
                "PKCS#1 \"RSA PUBLIC KEY\" PEM: give the SubjectPublicKeyInfo form (\"BEGIN PUBLIC KEY\")"
                    .into(),
            )
        }
        tag => return Err(format!("a PEM \"{tag}\" block: {SHAPE}")),
    }
    if block.headers().iter().next().is_some() {
        return Err(format!("PEM headers in the block: {SHAPE}"));
    }
    let der = block.into_contents();
    classify(&der).map(|kind| PublicKey { kind, der })
}

/// The kind of a SubjectPublicKeyInfo DER key, or why it is refused.
fn classify(der: &[u8]) -> Result<KeyKind, String> {
    match aws_lc_rs::rsa::PublicEncryptingKey::from_der(der) {
        Ok(_) => return Ok(KeyKind::Rsa),
        Err(e) if e.description_() == "TooSmall" => {
            return Err(
                "RSA public key smaller than 2048 bits: Tableau requires at least 2048 (sub-code 10088)"
                    .into(),
            )
        }
        Err(e) if e.description_() == "TooLarge" => {
            return Err("RSA public key larger than 8192 bits".into())
        }
        Err(_) => {}
    }
    let candidates: [(KeyKind, &'static dyn VerificationAlgorithm); 3] = [
        (KeyKind::EcP256, &signature::ECDSA_P256_SHA256_FIXED),
        (KeyKind::EcP384, &signature::ECDSA_P384_SHA384_FIXED),
        (KeyKind::Ed25519, &signature::ED25519),
    ];
    candidates
        .into_iter()
        .find(|(_, alg)| ParsedPublicKey::new(*alg, der).is_ok())
        .map(|(kind, _)| kind)
        .ok_or_else(|| {
            "not an RSA (2048+ bits), EC P-256 / P-384 or Ed25519 SubjectPublicKeyInfo key".into()
        })
}

/// The key kind and aws-lc-rs algorithm for a JWT `alg` that EAS JWTs may use; `None` for
/// any other value (`HS256`, `none`, `ES512`, …).
pub(crate) fn eas_algorithm(alg: &str) -> Option<(KeyKind, &'static dyn VerificationAlgorithm)> {
    let found: (KeyKind, &'static dyn VerificationAlgorithm) = match alg {
        "RS256" => (KeyKind::Rsa, &signature::RSA_PKCS1_2048_8192_SHA256),
        "RS384" => (KeyKind::Rsa, &signature::RSA_PKCS1_2048_8192_SHA384),
        "RS512" => (KeyKind::Rsa, &signature::RSA_PKCS1_2048_8192_SHA512),
        "PS256" => (KeyKind::Rsa, &signature::RSA_PSS_2048_8192_SHA256),
        "PS384" => (KeyKind::Rsa, &signature::RSA_PSS_2048_8192_SHA384),
        "PS512" => (KeyKind::Rsa, &signature::RSA_PSS_2048_8192_SHA512),
        "ES256" => (KeyKind::EcP256, &signature::ECDSA_P256_SHA256_FIXED),
        "ES384" => (KeyKind::EcP384, &signature::ECDSA_P384_SHA384_FIXED),
        "EdDSA" => (KeyKind::Ed25519, &signature::ED25519),
        _ => return None,
    };
    Some(found)
}

/// True when some key of `keys` of the kind `alg` needs verifies `signature` over `message`.
pub(crate) fn verify_with_any(
    keys: &[PublicKey],
    (kind, alg): (KeyKind, &'static dyn VerificationAlgorithm),
    message: &[u8],
    signature: &[u8],
) -> bool {
    keys.iter().filter(|k| k.kind == kind).any(|k| {
        UnparsedPublicKey::new(alg, &k.der)
            .verify(message, signature)
            .is_ok()
    })
}

#[cfg(test)]
mod unit {
    use super::*;

    #[test]
    fn pem_shapes_are_checked() {
        for bad in [
            "",
            "-----BEGIN PUBLIC KEY-----\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\n!!!!\n-----END PUBLIC KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
            "-----BEGIN RSA PUBLIC KEY-----\nAAAA\n-----END RSA PUBLIC KEY-----",
            "-----BEGIN PRIVATE KEY-----\nAAAA\n-----END PRIVATE KEY-----",
            "-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----\n-----BEGIN PUBLIC KEY-----\nAAAA\n-----END PUBLIC KEY-----",
        ] {
            assert!(parse_public_key_pem(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn pem_blocks_are_read_by_the_pem_crate() {
        use aws_lc_rs::encoding::AsDer;
        use aws_lc_rs::signature::{EcdsaKeyPair, KeyPair};
        let pair = EcdsaKeyPair::generate(&signature::ECDSA_P256_SHA256_FIXED_SIGNING).unwrap();
        let der = pair.public_key().as_der().unwrap().as_ref().to_vec();
        let good = pem::encode(&pem::Pem::new("PUBLIC KEY", der.clone()));
        let mut with_header = pem::Pem::new("PUBLIC KEY", der.clone());
        with_header.headers_mut().add("Comment", "x").unwrap();
        assert_eq!(
            parse_public_key_pem(&good),
            Ok(PublicKey {
                kind: KeyKind::EcP256,
                der
            })
        );
        for (bad, says) in [
            (pem::encode(&with_header), "PEM headers"),
            (
                good.replace("END PUBLIC KEY", "END CERTIFICATE"),
                "mismatching",
            ),
            (format!("{good}{good}"), "more than one"),
            (format!("{good} trailing"), "not a PEM block"),
            (good.replace("PUBLIC KEY", "CERTIFICATE"), "CERTIFICATE"),
        ] {
            let err = parse_public_key_pem(&bad).expect_err(&bad);
            assert!(err.contains(says), "{err:?} lacks {says:?}");
        }
    }

    #[test]
    fn only_listed_algorithms() {
        for alg in ["HS256", "none", "ES512", "rs256", "", "PS256 "] {
            assert!(eas_algorithm(alg).is_none(), "{alg}");
        }
        for alg in [
            "RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA",
        ] {
            assert!(eas_algorithm(alg).is_some(), "{alg}");
        }
    }
}
