//! TLS for the fake: a throwaway CA made at start (rcgen, ECDSA P-256), a server certificate it
//! issues for `localhost` and `127.0.0.1`, and, for mutual TLS, a client certificate it issues
//! and a rustls verifier that wants one. Everything uses aws-lc-rs (the provider is passed
//! explicitly, so the process-wide default provider is neither needed nor touched).

use std::io;
use std::sync::Arc;

use rcgen::{
    BasicConstraints, CertificateParams, CertifiedIssuer, DistinguishedName, DnType,
    ExtendedKeyUsagePurpose, IsCa, KeyPair, KeyUsagePurpose,
};
use tokio_rustls::rustls::crypto::aws_lc_rs;
use tokio_rustls::rustls::pki_types::{PrivateKeyDer, PrivatePkcs8KeyDer};
use tokio_rustls::rustls::server::WebPkiClientVerifier;
use tokio_rustls::rustls::{RootCertStore, ServerConfig};
use tokio_rustls::TlsAcceptor;

/// The subject alternative names of the server certificate.
const SERVER_NAMES: [&str; 2] = ["localhost", "127.0.0.1"];

/// What a TLS fake needs: the acceptor for the server, the PEMs for its clients.
pub(crate) struct TlsSetup {
    pub acceptor: TlsAcceptor,
    /// The CA certificate (PEM).
    pub ca_pem: String,
    /// Client certificate and PKCS#8 private key (PEM), when client certificates are required.
    pub client_identity: Option<(String, String)>,
}

fn other(what: &str, e: impl std::fmt::Display) -> io::Error {
    io::Error::other(format!("fake Tableau TLS setup: {what}: {e}"))
}

fn common_name(name: &str) -> DistinguishedName {
    let mut dn = DistinguishedName::new();
    dn.push(DnType::CommonName, name);
    dn
}

/// Makes a fresh CA, a server certificate (and a client certificate when
/// `require_client_cert`) and the rustls server configuration (HTTP/1.1 by ALPN).
pub(crate) fn setup(require_client_cert: bool) -> io::Result<TlsSetup> {
    // The CA.
    let mut ca_params = CertificateParams::default();
    ca_params.distinguished_name = common_name("FakeTableau test CA");
    ca_params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    ca_params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    let ca_key = KeyPair::generate().map_err(|e| other("CA key", e))?;
    let ca = CertifiedIssuer::self_signed(ca_params, ca_key).map_err(|e| other("CA", e))?;

    // The server certificate.
    let names: Vec<String> = SERVER_NAMES.iter().map(|s| s.to_string()).collect();
    let mut server_params = CertificateParams::new(names).map_err(|e| other("server names", e))?;
    server_params.distinguished_name = common_name("localhost");
    server_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
    server_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ServerAuth];
    server_params.use_authority_key_identifier_extension = true;
    let server_key = KeyPair::generate().map_err(|e| other("server key", e))?;
    let server_cert = server_params
        .signed_by(&server_key, &*ca)
        .map_err(|e| other("server certificate", e))?;

    let provider = Arc::new(aws_lc_rs::default_provider());
    let builder = ServerConfig::builder_with_provider(Arc::clone(&provider))
        .with_safe_default_protocol_versions()
        .map_err(|e| other("protocol versions", e))?;

    let (builder, client_identity) = if require_client_cert {
        let mut client_params = CertificateParams::default();
        client_params.distinguished_name = common_name("fake-tableau-client");
        client_params.key_usages = vec![KeyUsagePurpose::DigitalSignature];
        client_params.extended_key_usages = vec![ExtendedKeyUsagePurpose::ClientAuth];
        client_params.use_authority_key_identifier_extension = true;
        let client_key = KeyPair::generate().map_err(|e| other("client key", e))?;
        let client_cert = client_params
            .signed_by(&client_key, &*ca)
            .map_err(|e| other("client certificate", e))?;

        let mut roots = RootCertStore::empty();
        roots
            .add(ca.der().clone())
            .map_err(|e| other("client roots", e))?;
        let verifier = WebPkiClientVerifier::builder_with_provider(Arc::new(roots), provider)
            .build()
            .map_err(|e| other("client verifier", e))?;
        (
            builder.with_client_cert_verifier(verifier),
            Some((client_cert.pem(), client_key.serialize_pem())),
        )
    } else {
        (builder.with_no_client_auth(), None)
    };

    let key = PrivateKeyDer::Pkcs8(PrivatePkcs8KeyDer::from(server_key.serialize_der()));
    let mut config = builder
        .with_single_cert(vec![server_cert.der().clone()], key)
        .map_err(|e| other("server configuration", e))?;
    config.alpn_protocols = vec![b"http/1.1".to_vec()];

    Ok(TlsSetup {
        acceptor: TlsAcceptor::from(Arc::new(config)),
        ca_pem: ca.pem(),
        client_identity,
    })
}
