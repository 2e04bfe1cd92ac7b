//! Private keys for JWTs signed by an identity provider (OAuth 2.0 trust / EAS, unified access
//! tokens): PEM parsing and RS/PS/ES/EdDSA signing with aws-lc-rs. A key that does not fit its
//! algorithm, a bad PEM, or an RSA key under 2048 bits is a `ConfigurationError` at once.

use std::fmt;

use aws_lc_rs::digest;
use aws_lc_rs::rand::SystemRandom;
use aws_lc_rs::signature::{self, EcdsaKeyPair, Ed25519KeyPair, KeyPair, RsaKeyPair};
use base64::engine::general_purpose::STANDARD;
use base64::Engine;

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

/// The DER inside a PEM block, and the block's label.
fn pem_der(pem: &str) -> Result<(String, Vec<u8>)> {
    let start = pem.find("-----BEGIN ").ok_or_else(|| {
        Error::Configuration(
            "private_key is not PEM: pass the text that starts with \"-----BEGIN PRIVATE KEY-----\""
                .into(),
        )
    })?;
    let rest = &pem[start + "-----BEGIN ".len()..];
    let label_end = rest
        .find("-----")
        .ok_or_else(|| Error::Configuration("private_key has a broken PEM header".into()))?;
    let label = rest[..label_end].to_string();
    let body_and_end = &rest[label_end + 5..];
    let end_marker = format!("-----END {label}-----");
    let end = body_and_end.find(&end_marker).ok_or_else(|| {
        Error::Configuration(format!("private_key lacks its \"{end_marker}\" line"))
    })?;
    let body: String = body_and_end[..end]
        .chars()
        .filter(|c| !c.is_whitespace())
        .collect();
    if body.contains(':') {
        return Err(Error::Configuration(
            "private_key is encrypted (Proc-Type/DEK-Info headers): decrypt it first".into(),
        ));
    }
    let der = STANDARD
        .decode(body.as_bytes())
        .map_err(|_| Error::Configuration("private_key's PEM body is not valid base64".into()))?;
    Ok((label, der))
}

/// One DER TLV: (tag, contents, rest).
fn der_tlv(input: &[u8]) -> Option<(u8, &[u8], &[u8])> {
    let (&tag, rest) = input.split_first()?;
    let (&first, mut rest) = rest.split_first()?;
    let len = if first < 0x80 {
        usize::from(first)
    } else {
        let n = usize::from(first & 0x7f);
        if n == 0 || n > 4 || rest.len() < n {
            return None;
        }
        let (bytes, after) = rest.split_at(n);
        rest = after;
        bytes
            .iter()
            .fold(0usize, |acc, b| (acc << 8) | usize::from(*b))
    };
    if rest.len() < len {
        return None;
    }
    let (contents, after) = rest.split_at(len);
    Some((tag, contents, after))
}

/// The modulus size of an RSA private key in PKCS#1 or PKCS#8 DER, read without aws-lc (which
/// refuses keys under 2048 bits before telling their size).
fn rsa_modulus_bits(der: &[u8]) -> Option<usize> {
    const SEQUENCE: u8 = 0x30;
    const INTEGER: u8 = 0x02;
    const OCTET_STRING: u8 = 0x04;
    let (tag, body, _) = der_tlv(der)?;
    if tag != SEQUENCE {
        return None;
    }
    let (_, _, rest) = der_tlv(body)?; // version
    let (tag, second, rest) = der_tlv(rest)?;
    if tag == INTEGER {
        // PKCS#1: the second field is the modulus.
        let significant = second.iter().skip_while(|b| **b == 0).count();
        return Some(significant * 8);
    }
    // PKCS#8: version, algorithm, then the PKCS#1 key in an OCTET STRING.
    let (tag, inner, _) = der_tlv(rest)?;
    if tag != OCTET_STRING {
        return None;
    }
    rsa_modulus_bits(inner)
}

impl SigningKey {
    /// Read a PEM private key (PKCS#8 "PRIVATE KEY", PKCS#1 "RSA PRIVATE KEY" or SEC1
    /// "EC PRIVATE KEY") for `algorithm`.
    pub fn from_pem(pem: &str, algorithm: Algorithm) -> Result<SigningKey> {
        let (label, der) = pem_der(pem)?;
        match label.as_str() {
            "PRIVATE KEY" | "RSA PRIVATE KEY" | "EC PRIVATE KEY" => {}
            "ENCRYPTED PRIVATE KEY" => {
                return Err(Error::Configuration(
                    "private_key is an encrypted PKCS#8 key: decrypt it first (e.g. openssl pkcs8 -nocrypt)".into(),
                ))
            }
            "PUBLIC KEY" | "RSA PUBLIC KEY" | "CERTIFICATE" => {
                return Err(Error::Configuration(format!(
                    "private_key is a {}: pass the private key (Tableau holds the public one)",
                    label.to_ascii_lowercase()
                )))
            }
            other => {
                return Err(Error::Configuration(format!(
                    "private_key is a PEM \"{other}\", not a private key"
                )))
            }
        }
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
                let pair = RsaKeyPair::from_pkcs8(&der)
                    .or_else(|_| RsaKeyPair::from_der(&der))
                    .map_err(|_| match rsa_modulus_bits(&der) {
                        // aws-lc refuses small keys outright: say why.
                        Some(bits) if bits < 2048 => Error::Configuration(format!(
                            "the RSA key has {bits} bits: Tableau requires at least 2048 (10088)"
                        )),
                        _ => mismatch("it is not an RSA private key"),
                    })?;
                let bits = pair.public_modulus_len() * 8;
                if bits < 2048 {
                    return Err(Error::Configuration(format!(
                        "the RSA key has {bits} bits: Tableau requires at least 2048 (10088)"
                    )));
                }
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
        let b64 = STANDARD.encode(der);
        let lines: Vec<&str> = b64
            .as_bytes()
            .chunks(64)
            .map(|c| std::str::from_utf8(c).unwrap_or(""))
            .collect();
        format!(
            "-----BEGIN {label}-----\n{}\n-----END {label}-----\n",
            lines.join("\n")
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
}
