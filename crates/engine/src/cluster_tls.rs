//! Mutual TLS between the peers of a cluster: its scheduler, its executors and the segsync
//! nodes that send it queries. Each peer holds the cluster's certificate authority, and a
//! certificate of its own signed by it: a peer accepts a connection only from a certificate the
//! authority signed, and connects only to a peer whose certificate it signed for the host it
//! dialled. `segsync cluster certificates` makes the authority and the certificates.

use std::error::Error as StdError;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use ballista_core::utils::{GrpcClientConfig, create_grpc_client_endpoint};
use rustls_pki_types::pem::PemObject;
use rustls_pki_types::{CertificateDer, PrivateKeyDer};
use serde::{Deserialize, Serialize};
use tonic::codegen::http::Uri;
use tonic::codegen::http::uri::Scheme;
use tonic::transport::{Certificate, ClientTlsConfig, Endpoint, Identity, ServerTlsConfig};

use crate::error::EngineError;

/// How long a peer may take over the TLS handshake before the connection is closed.
const HANDSHAKE: Duration = Duration::from_secs(10);

/// The files of a peer's mutual TLS, in PEM: `[engine] cluster_tls` on a node, the `--tls-*`
/// options of `segsync cluster scheduler|executor`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ClusterTls {
    /// The cluster's certificate authority (several, one after the other, while it is being
    /// replaced: a peer signed by any of them is accepted).
    pub ca: PathBuf,
    /// This peer's certificate, signed by the authority, naming the hosts it is reached by.
    pub certificate: PathBuf,
    /// This peer's private key.
    pub key: PathBuf,
}

impl ClusterTls {
    /// Reads and checks the three files.
    pub fn load(&self) -> Result<ClusterIdentity, EngineError> {
        // Each file read and checked in turn, so that the first one wrong is the one named.
        let ca = read(&self.ca)?;
        certificates(&self.ca, &ca)?;
        let certificate = read(&self.certificate)?;
        certificates(&self.certificate, &certificate)?;
        let key = read(&self.key)?;
        ClusterIdentity::from_pem(
            (&self.ca, &ca),
            (&self.certificate, &certificate),
            (&self.key, &key),
        )
    }
}

fn read(path: &Path) -> Result<String, EngineError> {
    std::fs::read_to_string(path).map_err(|error| EngineError::ClusterTls {
        file: path.to_path_buf(),
        problem: error.to_string(),
    })
}

/// A peer's authority, certificate and key, checked and ready to serve and to connect with.
#[derive(Clone)]
pub struct ClusterIdentity {
    ca: Certificate,
    identity: Identity,
}

impl std::fmt::Debug for ClusterIdentity {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ClusterIdentity").finish_non_exhaustive()
    }
}

/// A function Ballista calls on each endpoint it is about to connect to.
pub type EndpointOverride =
    Arc<dyn Fn(Endpoint) -> Result<Endpoint, Box<dyn StdError + Send + Sync>> + Send + Sync>;

impl ClusterIdentity {
    /// An identity from the PEM text of the authority, the certificate and the key, each with
    /// the file it came from (named in errors).
    pub fn from_pem(
        (ca_file, ca): (&Path, &str),
        (certificate_file, certificate): (&Path, &str),
        (key_file, key): (&Path, &str),
    ) -> Result<Self, EngineError> {
        certificates(ca_file, ca)?;
        certificates(certificate_file, certificate)?;
        PrivateKeyDer::from_pem_slice(key.as_bytes()).map_err(|error| EngineError::ClusterTls {
            file: key_file.to_path_buf(),
            problem: format!("no private key in PEM: {error}"),
        })?;
        // tonic builds its TLS on the process's rustls provider; ring is segsync's (as for
        // Constant Contact's client). Installing it twice is harmless, so the result is ignored.
        let _ = rustls::crypto::ring::default_provider().install_default();
        Ok(Self {
            ca: Certificate::from_pem(ca),
            identity: Identity::from_pem(certificate, key),
        })
    }

    /// What a scheduler or an executor serves with: its certificate, and a certificate signed
    /// by the authority required of every client.
    pub fn server_tls(&self) -> ServerTlsConfig {
        ServerTlsConfig::new()
            .identity(self.identity.clone())
            .client_ca_root(self.ca.clone())
            .timeout(HANDSHAKE)
    }

    /// What a peer connects with: the authority the server's certificate must be signed by, for
    /// the host dialled, and this peer's certificate.
    pub fn client_tls(&self) -> ClientTlsConfig {
        ClientTlsConfig::new()
            .ca_certificate(self.ca.clone())
            .identity(self.identity.clone())
            .timeout(HANDSHAKE)
    }

    /// `endpoint` over TLS with this identity. Ballista dials schedulers at `http://` whatever
    /// its TLS setting, and tonic uses TLS only for `https://`: such an endpoint is made again
    /// for `https://` with Ballista's default settings, which are the ones segsync uses.
    pub fn secure(&self, endpoint: Endpoint) -> Result<Endpoint, Box<dyn StdError + Send + Sync>> {
        let endpoint = if endpoint.uri().scheme() == Some(&Scheme::HTTPS) {
            endpoint
        } else {
            let mut parts = endpoint.uri().clone().into_parts();
            parts.scheme = Some(Scheme::HTTPS);
            let uri = Uri::from_parts(parts)?;
            create_grpc_client_endpoint(uri, Some(&GrpcClientConfig::default()))?
        };
        Ok(endpoint.tls_config(self.client_tls())?)
    }

    /// [`Self::secure`] as the function Ballista takes to adjust the endpoints it dials.
    pub fn endpoint_override(&self) -> EndpointOverride {
        let identity = self.clone();
        Arc::new(move |endpoint| identity.secure(endpoint))
    }
}

/// Checks that `pem` holds at least one certificate, all of them readable.
fn certificates(file: &Path, pem: &str) -> Result<(), EngineError> {
    let problem = |problem: String| EngineError::ClusterTls {
        file: file.to_path_buf(),
        problem,
    };
    let mut found = 0;
    for certificate in CertificateDer::pem_slice_iter(pem.as_bytes()) {
        certificate.map_err(|error| problem(format!("not a PEM certificate: {error}")))?;
        found += 1;
    }
    if found == 0 {
        return Err(problem("no certificate in PEM".to_owned()));
    }
    Ok(())
}

/// Whether `host` (a name or an address, as in a URL) is this machine's loopback, which needs
/// no authentication.
pub fn is_loopback(host: &str) -> bool {
    let host = host.trim_start_matches('[').trim_end_matches(']');
    host.eq_ignore_ascii_case("localhost")
        || host
            .parse::<std::net::IpAddr>()
            .is_ok_and(|address| address.is_loopback())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_this_machine_is_loopback() {
        for host in ["127.0.0.1", "127.8.9.1", "localhost", "[::1]", "::1"] {
            assert!(is_loopback(host), "{host}");
        }
        for host in ["0.0.0.0", "::", "10.0.0.5", "scheduler.internal", ""] {
            assert!(!is_loopback(host), "{host}");
        }
    }

    #[test]
    fn an_unreadable_file_is_named() {
        let folder = tempfile::tempdir().unwrap();
        let ca = folder.path().join("ca.pem");
        let certificate = folder.path().join("node.pem");
        let key = folder.path().join("node.key");
        std::fs::write(&ca, "not a certificate").unwrap();
        let tls = ClusterTls {
            ca: ca.clone(),
            certificate: certificate.clone(),
            key,
        };
        let error = tls.load().unwrap_err().to_string();
        assert!(error.contains(&*ca.to_string_lossy()), "{error}");
        assert!(error.contains("no certificate"), "{error}");
        let made = rcgen::generate_simple_self_signed(vec!["localhost".to_owned()]).unwrap();
        std::fs::write(&ca, made.cert.pem()).unwrap();
        let error = tls.load().unwrap_err().to_string();
        assert!(error.contains(&*certificate.to_string_lossy()), "{error}");
        std::fs::write(&certificate, made.cert.pem()).unwrap();
        let error = tls.load().unwrap_err().to_string();
        assert!(error.contains("node.key"), "{error}");
        std::fs::write(&tls.key, made.signing_key.serialize_pem()).unwrap();
        tls.load().unwrap();
    }
}
