//! Private keys for JWTs signed by an identity provider (OAuth 2.0 trust / EAS, unified access
//! tokens). The `pem` crate reads the PEM block; aws-lc-rs parses the DER inside (PKCS#8, PKCS#1,
//! SEC1) and signs RS/PS/ES/EdDSA. A key that does not fit its algorithm, a bad PEM, or an RSA key
//! under 2048 bits is a `ConfigurationError` at once.

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::error::KeyRejected;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use pem::PemError;

use super::error::{Error, Result};

/// A JWS algorithm for asymmetric keys.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Algorithm {
    RS256,
    RS384,
    RS512,
    PS256,
    PS384,
    PS512,
    ES256,
    ES384,
    EdDSA,
}

impl Algorithm {
    pub const ALL: [Algorithm; 9] = [
        Algorithm::RS256,
        Algorithm::RS384,
        Algorithm::RS512,
        Algorithm::PS256,
        Algorithm::PS384,
        Algorithm::PS512,
        Algorithm::ES256,
        Algorithm::ES384,
        Algorithm::EdDSA,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Algorithm::RS256 => "RS256",
            Algorithm::RS384 => "RS384",
            Algorithm::RS512 => "RS512",
            Algorithm::PS256 => "PS256",
            Algorithm::PS384 => "PS384",
            Algorithm::PS512 => "PS512",
            Algorithm::ES256 => "ES256",
            Algorithm::ES384 => "ES384",
            Algorithm::EdDSA => "EdDSA",
        }
    }

    pub fn parse(name: &str) -> Result<Algorithm> {
        Algorithm::ALL
            .into_iter()
            .find(|a| a.name() == name)
            .ok_or_else(|| {
                Error::Configuration(format!(
                    "algorithm {name:?} is not supported: use one of {}",
                    Algorithm::ALL.map(Algorithm::name).join(", ")
                ))
            })
    }
}

enum Key {
    Rsa(RsaKeyPair, &'static dyn signature::RsaEncoding),
    Ecdsa(EcdsaKeyPair),
    Ed25519(Ed25519KeyPair),
}

/// A private key ready to sign JWTs with one algorithm.
pub struct SigningKey {
    algorithm: Algorithm,
    key: Key,
    /// SHA-256 of the key's DER: what the cache key and cache encryption derive from.
    fingerprint: [u8; 32],
}

impl fmt::Debug for SigningKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "SigningKey({}, ***)", self.algorithm.name())
    }
}

/// The DER of `private_key`'s first PEM block, once its label and headers say it is an
/// unencrypted private key. The `pem` crate reads the framing and the base64; the messages here
/// never quote the PEM's content.
fn private_key_der(text: &str) -> Result<Vec<u8>> {
    let block = match pem::parse(text) {
        // RFC 7468 allows blank lines inside the base64 (a key pasted double-spaced); the pem
        // crate reads what comes before one as RFC 1421 headers. Read it again without them.
        Err(PemError::InvalidHeader(_)) => pem::parse(
            text.lines()
                .filter(|line| !line.trim().is_empty())
                .collect::<Vec<_>>()
                .join("\n"),
        ),
        parsed => parsed,
    }
    .map_err(|e| {
        Error::Configuration(match e {
            PemError::MalformedFraming if !text.contains("-----BEGIN ") => {
                "private_key is not PEM: pass the text that starts with \"-----BEGIN PRIVATE KEY-----\""
                    .into()
            }
            PemError::MalformedFraming | PemError::MissingEndTag => {
                "private_key's PEM block is incomplete: pass it whole, through its \"-----END …-----\" line"
                    .into()
            }
            PemError::MismatchedTags(begin, end) => format!(
                "private_key's PEM block begins with \"-----BEGIN {begin}-----\" but ends with \"-----END {end}-----\""
            ),
            // Legacy OpenSSL encryption headers without the blank line after them.
            PemError::InvalidData(_) if text.contains("Proc-Type:") => {
                "private_key is encrypted (Proc-Type/DEK-Info headers): decrypt it first".into()
            }
            PemError::InvalidData(_) => "private_key's PEM body is not valid base64".into(),
            // Never `{e}`: an "invalid header" would quote a line of the key.
            _ => "private_key's PEM block is malformed: pass the key as the tool that made it wrote it"
                .into(),
        })
    })?;
    match block.tag() {
        "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {}
        "ENCRYPTED PRIVATE KEY" => {
            return Err(Error::Configuration(
                "private_key is an encrypted PKCS#8 key: decrypt it first (e.g. openssl pkcs8 -nocrypt)".into(),
            ))
        }
        "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => {
            return Err(Error::Configuration(format!(
                "private_key is a {}: pass the private key (Tableau holds the public one)",
                block.tag().to_ascii_lowercase()
            )))
        }
        other => {
            return Err(Error::Configuration(format!(
                "private_key is a PEM \"{other}\", not a private key"
            )))
        }
    }
    if block.headers().iter().next().is_some() {
        return Err(Error::Configuration(
            "private_key is encrypted (Proc-Type/DEK-Info headers): decrypt it first".into(),
        ));
    }
    Ok(block.into_contents())
}

/// Why aws-lc-rs refused an RSA private key, told the way Tableau would (sub-code 10088).
fn rsa_refused(errors: [KeyRejected; 2]) -> Option<Error> {
    let said = |what: &str| errors.iter().any(|e| e.description_() == what);
    if said("TooSmall") {
        Some(Error::Configuration(
            "the RSA key is smaller than 2048 bits: Tableau requires at least 2048 (10088)".into(),
        ))
    } else if said("TooLarge") {
        Some(Error::Configuration(
            "the RSA key is larger than 8192 bits: use a key of 2048 to 8192 bits".into(),
        ))
    } else {
        None
    }
}

impl SigningKey {
    /// Read a PEM private key (PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY" or SEC1
    /// "EC PRIVATE KEY") for `algorithm`.
    pub fn from_pem(pem: &str, algorithm: Algorithm) -> Result<SigningKey> {
        let der = private_key_der(pem)?;
        let mismatch = |what: &str| {
            Error::Configuration(format!(
                "private_key does not fit algorithm {}: {what}",
                algorithm.name()
            ))
        };
        let key = match algorithm {
            Algorithm::RS256
            | Algorithm::RS384
            | Algorithm::RS512
            | Algorithm::PS256
            | Algorithm::PS384
            | Algorithm::PS512 => {
                // PKCS#8 or PKCS#1; aws-lc-rs refuses keys outside 2048..=8192 bits.
                let pair = RsaKeyPair::from_pkcs8(&der)
                    .or_else(|pkcs8| RsaKeyPair::from_der(&der).map_err(|pkcs1| [pkcs8, pkcs1]))
                    .map_err(|errors| {
                        rsa_refused(errors)
                            .unwrap_or_else(|| mismatch("it is not an RSA private key"))
                    })?;
                let encoding: &'static dyn signature::RsaEncoding = match algorithm {
                    Algorithm::RS256 => &signature::RSA_PKCS1_SHA256,
                    Algorithm::RS384 => &signature::RSA_PKCS1_SHA384,
                    Algorithm::RS512 => &signature::RSA_PKCS1_SHA512,
                    Algorithm::PS256 => &signature::RSA_PSS_SHA256,
                    Algorithm::PS384 => &signature::RSA_PSS_SHA384,
                    _ => &signature::RSA_PSS_SHA512,
                };
                Key::Rsa(pair, encoding)
            }
            Algorithm::ES256 | Algorithm::ES384 => {
                let alg = if algorithm == Algorithm::ES256 {
                    &signature::ECDSA_P256_SHA256_FIXED_SIGNING
                } else {
                    &signature::ECDSA_P384_SHA384_FIXED_SIGNING
                };
                let pair = EcdsaKeyPair::from_pkcs8(alg, &der)
                    .or_else(|_| EcdsaKeyPair::from_private_key_der(alg, &der))
                    .map_err(|_| {
                        mismatch(if algorithm == Algorithm::ES256 {
                            "ES256 needs an EC P-256 private key"
                        } else {
                            "ES384 needs an EC P-384 private key"
                        })
                    })?;
                Key::Ecdsa(pair)
            }
            Algorithm::EdDSA => Key::Ed25519(
                Ed25519KeyPair::from_pkcs8_maybe_unchecked(&der)
                    .map_err(|_| mismatch("EdDSA needs an Ed25519 private key (PKCS#8)"))?,
            ),
        };
        let mut fingerprint = [0u8; 32];
        fingerprint.copy_from_slice(digest::digest(&digest::SHA256, &der).as_ref());
        Ok(SigningKey {
            algorithm,
            key,
            fingerprint,
        })
    }

    pub fn algorithm(&self) -> Algorithm {
        self.algorithm
    }

    pub fn fingerprint(&self) -> &[u8; 32] {
        &self.fingerprint
    }

    /// The public key (DER SubjectPublicKeyInfo for EC/Ed25519, PKCS#1 for RSA), for tests.
    pub fn public_key_der(&self) -> Vec<u8> {
        match &self.key {
            Key::Rsa(k, _) => k.public_key().as_ref().to_vec(),
            Key::Ecdsa(k) => k.public_key().as_ref().to_vec(),
            Key::Ed25519(k) => k.public_key().as_ref().to_vec(),
        }
    }

    /// The JWS signature over `message`.
    pub fn sign(&self, message: &[u8]) -> Result<Vec<u8>> {
        let failed = || Error::Configuration("signing the JWT failed".into());
        match &self.key {
            Key::Rsa(pair, encoding) => {
                let mut sig = vec![0u8; pair.public_modulus_len()];
                pair.sign(*encoding, &SystemRandom::new(), message, &mut sig)
                    .map_err(|_| failed())?;
                Ok(sig)
            }
            Key::Ecdsa(pair) => Ok(pair
                .sign(&SystemRandom::new(), message)
                .map_err(|_| failed())?
                .as_ref()
                .to_vec()),
            Key::Ed25519(pair) => Ok(pair.sign(message).as_ref().to_vec()),
        }
    }
}

#[cfg(test)]
pub mod test_keys {
    //! Keys generated at test time, as PEM.
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;

    pub fn pem(label: &str, der: &[u8]) -> String {
        pem::encode_config(
            &pem::Pem::new(label, der),
            pem::EncodeConfig::new().set_line_ending(pem::LineEnding::LF),
        )
    }

    pub fn rsa(size: KeySize) -> String {
        let k = RsaKeyPair::generate(size).unwrap();
        pem("PRIVATE KEY", k.as_der().unwrap().as_ref())
    }

    pub fn ec(alg: &'static signature::EcdsaSigningAlgorithm) -> String {
        let k = EcdsaKeyPair::generate(alg).unwrap();
        pem("PRIVATE KEY", k.to_pkcs8v1().unwrap().as_ref())
    }

    pub fn ed25519() -> String {
        let k = Ed25519KeyPair::generate().unwrap();
        pem("PRIVATE KEY", k.to_pkcs8().unwrap().as_ref())
    }
}

#[cfg(test)]
mod tests {
    use super::test_keys::*;
    use super::*;
    use aws_lc_rs::encoding::AsDer;
    use aws_lc_rs::rsa::KeySize;
    use aws_lc_rs::signature::UnparsedPublicKey;

    #[test]
    fn every_algorithm_signs_and_verifies() {
        let rsa = rsa(KeySize::Rsa2048);
        let p256 = ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING);
        let p384 = ec(&signature::ECDSA_P384_SHA384_FIXED_SIGNING);
        let ed = ed25519();
        let cases: [(
            Algorithm,
            &str,
            &'static dyn signature::VerificationAlgorithm,
        ); 9] = [
            (
                Algorithm::RS256,
                &rsa,
                &signature::RSA_PKCS1_2048_8192_SHA256,
            ),
            (
                Algorithm::RS384,
                &rsa,
                &signature::RSA_PKCS1_2048_8192_SHA384,
            ),
            (
                Algorithm::RS512,
                &rsa,
                &signature::RSA_PKCS1_2048_8192_SHA512,
            ),
            (Algorithm::PS256, &rsa, &signature::RSA_PSS_2048_8192_SHA256),
            (Algorithm::PS384, &rsa, &signature::RSA_PSS_2048_8192_SHA384),
            (Algorithm::PS512, &rsa, &signature::RSA_PSS_2048_8192_SHA512),
            (Algorithm::ES256, &p256, &signature::ECDSA_P256_SHA256_FIXED),
            (Algorithm::ES384, &p384, &signature::ECDSA_P384_SHA384_FIXED),
            (Algorithm::EdDSA, &ed, &signature::ED25519),
        ];
        for (alg, pem, verify) in cases {
            let key = SigningKey::from_pem(pem, alg).unwrap();
            let sig = key.sign(b"header.payload").unwrap();
            UnparsedPublicKey::new(verify, key.public_key_der())
                .verify(b"header.payload", &sig)
                .unwrap_or_else(|_| panic!("{} does not verify", alg.name()));
        }
    }

    #[test]
    fn bad_keys_are_configuration_errors() {
        let rsa1024 = rsa(KeySize::Rsa2048).replace("PRIVATE KEY", "PUBLIC KEY");
        let p256 = ec(&signature::ECDSA_P256_SHA256_FIXED_SIGNING);
        let cases = [
            (SigningKey::from_pem("not a pem", Algorithm::RS256).err(), "not PEM"),
            (SigningKey::from_pem(&rsa1024, Algorithm::RS256).err(), "public key"),
            (SigningKey::from_pem(&p256, Algorithm::RS256).err(), "not an RSA"),
            (SigningKey::from_pem(&p256, Algorithm::ES384).err(), "P-384"),
            (SigningKey::from_pem(&rsa(KeySize::Rsa2048), Algorithm::ES256).err(), "P-256"),
            (SigningKey::from_pem("-----BEGIN PRIVATE KEY-----\n!!!\n-----END PRIVATE KEY-----", Algorithm::RS256).err(), "base64"),
            (SigningKey::from_pem("-----BEGIN ENCRYPTED PRIVATE KEY-----\nAAAA\n-----END ENCRYPTED PRIVATE KEY-----", Algorithm::RS256).err(), "encrypted"),
            (Algorithm::parse("HS256").err(), "not supported"),
        ];
        for (err, needle) in cases {
            match err {
                Some(Error::Configuration(m)) => {
                    assert!(m.contains(needle), "{m:?} lacks {needle:?}")
                }
                other => panic!("expected a configuration error with {needle:?}, got {other:?}"),
            }
        }
    }

    // Keys aws-lc-rs cannot make (see testdata/README.md).
    const RSA1024_PKCS8: &str = include_str!("../testdata/rsa1024-pkcs8.pem");
    const RSA1024_PKCS1: &str = include_str!("../testdata/rsa1024-pkcs1.pem");
    const RSA1024_PKCS1_ENCRYPTED: &str = include_str!("../testdata/rsa1024-pkcs1-encrypted.pem");
    const RSA2048_PKCS1: &str = include_str!("../testdata/rsa2048-pkcs1.pem");
    const RSA8200_PKCS8: &str = include_str!("../testdata/rsa8200-pkcs8.pem");

    fn refusal(result: Result<SigningKey>) -> String {
        match result {
            Err(Error::Configuration(m)) => m,
            other => panic!("expected a configuration error, got {other:?}"),
        }
    }

    fn signs_verifiably(
        key: &SigningKey,
        verify: &'static dyn signature::VerificationAlgorithm,
    ) -> bool {
        let sig = key.sign(b"header.payload").unwrap();
        UnparsedPublicKey::new(verify, key.public_key_der())
            .verify(b"header.payload", &sig)
            .is_ok()
    }

    #[test]
    fn pkcs1_rsa_keys_are_read_whatever_surrounds_them() {
        let lf = SigningKey::from_pem(RSA2048_PKCS1, Algorithm::RS256).unwrap();
        assert!(signs_verifiably(
            &lf,
            &signature::RSA_PKCS1_2048_8192_SHA256
        ));
        let pss = SigningKey::from_pem(RSA2048_PKCS1, Algorithm::PS512).unwrap();
        assert!(signs_verifiably(&pss, &signature::RSA_PSS_2048_8192_SHA512));
        // CRLF line ends, blanks around, and the "Bag Attributes" text openssl pkcs12 puts first:
        // the same key, so the same fingerprint (it is the DER's, not the text's).
        for text in [
            RSA2048_PKCS1.replace('\n', "\r\n"),
            format!("\n  {RSA2048_PKCS1}  \n"),
            format!("Bag Attributes\n    localKeyID: 01 02 03\n{RSA2048_PKCS1}"),
            // Double-spaced, or one blank line inside the base64 (RFC 7468 allows both).
            RSA2048_PKCS1.replace('\n', "\n\n"),
            RSA2048_PKCS1.replacen('\n', "\n\n", 3),
            RSA2048_PKCS1.replace('\n', "\r\n\r\n"),
        ] {
            let key = SigningKey::from_pem(&text, Algorithm::RS256).unwrap();
            assert_eq!(key.fingerprint(), lf.fingerprint(), "{text:?}");
        }
    }

    #[test]
    fn sec1_ec_keys_are_read() {
        let cases: [(
            Algorithm,
            &'static signature::EcdsaSigningAlgorithm,
            &'static dyn signature::VerificationAlgorithm,
        ); 2] = [
            (
                Algorithm::ES256,
                &signature::ECDSA_P256_SHA256_FIXED_SIGNING,
                &signature::ECDSA_P256_SHA256_FIXED,
            ),
            (
                Algorithm::ES384,
                &signature::ECDSA_P384_SHA384_FIXED_SIGNING,
                &signature::ECDSA_P384_SHA384_FIXED,
            ),
        ];
        for (alg, signing, verify) in cases {
            let pair = EcdsaKeyPair::generate(signing).unwrap();
            let sec1 = pem(
                "EC PRIVATE KEY",
                pair.private_key().as_der().unwrap().as_ref(),
            );
            let key = SigningKey::from_pem(&sec1, alg).unwrap();
            assert!(signs_verifiably(&key, verify), "{}", alg.name());
            let other = if alg == Algorithm::ES256 {
                Algorithm::ES384
            } else {
                Algorithm::ES256
            };
            assert!(refusal(SigningKey::from_pem(&sec1, other)).contains("P-"));
            assert!(refusal(SigningKey::from_pem(&sec1, Algorithm::RS256)).contains("not an RSA"));
        }
    }

    #[test]
    fn rsa_keys_outside_2048_to_8192_bits_are_refused() {
        for (text, alg) in [
            (RSA1024_PKCS8, Algorithm::RS256),
            (RSA1024_PKCS8, Algorithm::PS256),
            (RSA1024_PKCS1, Algorithm::RS256),
            (RSA1024_PKCS1, Algorithm::PS384),
        ] {
            let m = refusal(SigningKey::from_pem(text, alg));
            assert!(m.contains("2048") && m.contains("10088"), "{m}");
        }
        let m = refusal(SigningKey::from_pem(RSA8200_PKCS8, Algorithm::RS256));
        assert!(m.contains("8192"), "{m}");
        // A small RSA key asked to be an EC or Ed25519 key is a mismatch, not a size problem.
        let m = refusal(SigningKey::from_pem(RSA1024_PKCS8, Algorithm::ES256));
        assert!(m.contains("P-256"), "{m}");
    }

    #[test]
    fn broken_and_encrypted_pems_say_what_to_do_without_quoting_the_key() {
        let good = rsa(KeySize::Rsa2048);
        let lines: Vec<&str> = good.lines().collect();
        let body = &lines[1..lines.len() - 1];
        let cases = [
            (String::new(), "not PEM"),
            ("MIIEvQIBADANBgkqhkiG9w0BAQEFAASC".to_string(), "not PEM"),
            (lines[..lines.len() - 1].join("\n"), "incomplete"),
            (
                good.replace("-----END PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----"),
                "ends with \"-----END RSA PRIVATE KEY-----\"",
            ),
            (good.replacen("MII", "MI!", 1), "base64"),
            (
                "-----BEGIN -----\nAAAA\n-----END -----\n".to_string(),
                "malformed",
            ),
            (RSA1024_PKCS1_ENCRYPTED.to_string(), "encrypted"),
            (
                RSA1024_PKCS1_ENCRYPTED.replacen("\n\n", "\n", 1),
                "encrypted",
            ),
            (
                good.replace("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"),
                "encrypted",
            ),
            (
                good.replace("PRIVATE KEY", "CERTIFICATE"),
                "is a certificate",
            ),
            (
                good.replace("PRIVATE KEY", "RSA PUBLIC KEY"),
                "is a rsa public key",
            ),
            (
                good.replace("PRIVATE KEY", "OPENSSH PRIVATE KEY"),
                "\"OPENSSH PRIVATE KEY\"",
            ),
            (pem("PRIVATE KEY", b"not a key"), "not an RSA private key"),
        ];
        for (text, needle) in cases {
            let m = refusal(SigningKey::from_pem(&text, Algorithm::RS256));
            assert!(m.contains(needle), "{m:?} lacks {needle:?}");
            for line in body {
                assert!(!m.contains(line), "{m:?} quotes the key");
            }
        }
    }
}
