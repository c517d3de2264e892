//! The certificates of a cluster's mutual TLS (`segsync cluster certificates`): one authority per
//! cluster, and for each scheduler, executor and node a certificate it signed, naming the hosts
//! the peer is reached by. The authority's key signs; only its holder can let a peer in.

use std::fs::OpenOptions;
use std::io::Write;
use std::path::{Path, PathBuf};

use rcgen::{
    BasicConstraints, CertificateParams, DistinguishedName, DnType, ExtendedKeyUsagePurpose, IsCa,
    Issuer, KeyPair, KeyUsagePurpose,
};
use time::{Duration, OffsetDateTime};

/// The authority's certificate and key, in the folder `segsync cluster certificates` writes.
pub const AUTHORITY_CERTIFICATE: &str = "ca.pem";
pub const AUTHORITY_KEY: &str = "ca.key";

/// How long an authority is valid: it is replaced far less often than the peers' certificates.
const AUTHORITY_DAYS: i64 = 3650;

/// Why certificates could not be made.
#[derive(Debug, thiserror::Error)]
pub enum CertificateError {
    #[error("{}: {source}", path.display())]
    File {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("{} is not the authority's key: {source}", path.display())]
    AuthorityKey { path: PathBuf, source: rcgen::Error },
    #[error("a certificate for {hosts:?} could not be made: {source}")]
    Make {
        hosts: Vec<String>,
        source: rcgen::Error,
    },
    #[error("a peer's certificate names at least one host it is reached by")]
    NoHost,
    #[error("{name:?} is not a peer's name: letters, digits, '-' and '_' only")]
    Name { name: String },
}

/// A certificate and its private key, in PEM.
pub struct Issued {
    pub certificate: String,
    pub key: String,
}

/// The authority's subject and usage: rebuilt from its key alone to sign with, so that the
/// certificates it signs name it exactly as its own certificate does.
fn authority_params() -> CertificateParams {
    let mut params = CertificateParams::default();
    let mut name = DistinguishedName::new();
    name.push(DnType::CommonName, "segsync cluster authority");
    params.distinguished_name = name;
    params.is_ca = IsCa::Ca(BasicConstraints::Constrained(0));
    params.key_usages = vec![
        KeyUsagePurpose::KeyCertSign,
        KeyUsagePurpose::CrlSign,
        KeyUsagePurpose::DigitalSignature,
    ];
    params
}

/// A new authority, valid from now for ten years.
pub fn new_authority() -> Result<Issued, CertificateError> {
    let make = |source| CertificateError::Make {
        hosts: Vec::new(),
        source,
    };
    let key = KeyPair::generate().map_err(make)?;
    let mut params = authority_params();
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + Duration::days(AUTHORITY_DAYS);
    let certificate = params.self_signed(&key).map_err(make)?;
    Ok(Issued {
        certificate: certificate.pem(),
        key: key.serialize_pem(),
    })
}

/// A peer's certificate for `hosts` (names or addresses), valid from now for `days`, signed by
/// the authority whose key is `authority_key` (PEM). It serves and connects alike, so one
/// certificate serves a scheduler, an executor or a node.
pub fn issue(
    authority_key: &KeyPair,
    name: &str,
    hosts: &[String],
    days: u32,
) -> Result<Issued, CertificateError> {
    if hosts.is_empty() {
        return Err(CertificateError::NoHost);
    }
    let make = |source| CertificateError::Make {
        hosts: hosts.to_vec(),
        source,
    };
    let mut params = CertificateParams::new(hosts.to_vec()).map_err(make)?;
    let mut subject = DistinguishedName::new();
    subject.push(DnType::CommonName, name);
    params.distinguished_name = subject;
    let now = OffsetDateTime::now_utc();
    params.not_before = now - Duration::minutes(5);
    params.not_after = now + Duration::days(i64::from(days));
    params.key_usages = vec![
        KeyUsagePurpose::DigitalSignature,
        KeyUsagePurpose::KeyEncipherment,
    ];
    params.extended_key_usages = vec![
        ExtendedKeyUsagePurpose::ServerAuth,
        ExtendedKeyUsagePurpose::ClientAuth,
    ];
    params.use_authority_key_identifier_extension = true;
    let key = KeyPair::generate().map_err(make)?;
    let issuer = Issuer::new(authority_params(), authority_key);
    let certificate = params.signed_by(&key, &issuer).map_err(make)?;
    Ok(Issued {
        certificate: certificate.pem(),
        key: key.serialize_pem(),
    })
}

/// What [`write_peer`] wrote.
pub struct Written {
    /// Whether the folder had no authority and a new one was made.
    pub new_authority: bool,
    pub certificate: PathBuf,
    pub key: PathBuf,
}

/// Writes `NAME.pem` and `NAME.key` for a peer reached at `hosts` into `folder`, signed by the
/// authority there (`ca.pem`, `ca.key`), which is made first when the folder has none. Keys are
/// written readable by their owner only, and an existing file is never overwritten.
pub fn write_peer(
    folder: &Path,
    name: &str,
    hosts: &[String],
    days: u32,
) -> Result<Written, CertificateError> {
    let plain = !name.is_empty()
        && name
            .chars()
            .all(|character| character.is_ascii_alphanumeric() || matches!(character, '-' | '_'));
    if !plain || name == "ca" {
        return Err(CertificateError::Name {
            name: name.to_owned(),
        });
    }
    if hosts.is_empty() {
        return Err(CertificateError::NoHost);
    }
    let file = |path: &Path| {
        let path = path.to_path_buf();
        move |source| CertificateError::File { path, source }
    };
    std::fs::create_dir_all(folder).map_err(file(folder))?;
    let authority_key_path = folder.join(AUTHORITY_KEY);
    let authority_made = !authority_key_path.exists();
    if authority_made {
        let authority = new_authority()?;
        write_new(&authority_key_path, &authority.key, true)?;
        write_new(
            &folder.join(AUTHORITY_CERTIFICATE),
            &authority.certificate,
            false,
        )?;
    }
    let authority_pem =
        std::fs::read_to_string(&authority_key_path).map_err(file(&authority_key_path))?;
    let authority_key =
        KeyPair::from_pem(&authority_pem).map_err(|source| CertificateError::AuthorityKey {
            path: authority_key_path.clone(),
            source,
        })?;
    let issued = issue(&authority_key, name, hosts, days)?;
    let certificate = folder.join(format!("{name}.pem"));
    let key = folder.join(format!("{name}.key"));
    write_new(&key, &issued.key, true)?;
    write_new(&certificate, &issued.certificate, false)?;
    Ok(Written {
        new_authority: authority_made,
        certificate,
        key,
    })
}

/// Writes `text` to a file that must not exist yet; a secret is readable by its owner only.
fn write_new(path: &Path, text: &str, secret: bool) -> Result<(), CertificateError> {
    let failed = |source| CertificateError::File {
        path: path.to_path_buf(),
        source,
    };
    let mut options = OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    if secret {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600);
    }
    #[cfg(not(unix))]
    let _ = secret;
    let mut file = options.open(path).map_err(failed)?;
    file.write_all(text.as_bytes()).map_err(failed)?;
    file.sync_all().map_err(failed)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn peers_share_one_authority_and_keys_stay_private() {
        let folder = tempfile::tempdir().unwrap();
        let hosts = vec!["127.0.0.1".to_owned(), "scheduler.internal".to_owned()];
        let first = write_peer(folder.path(), "scheduler", &hosts, 30).unwrap();
        assert!(first.new_authority);
        let authority = std::fs::read(folder.path().join(AUTHORITY_CERTIFICATE)).unwrap();
        let second = write_peer(folder.path(), "node-1", &["localhost".to_owned()], 30).unwrap();
        assert!(!second.new_authority);
        assert_eq!(
            std::fs::read(folder.path().join(AUTHORITY_CERTIFICATE)).unwrap(),
            authority
        );
        #[cfg(unix)]
        for key in [&first.key, &second.key, &folder.path().join(AUTHORITY_KEY)] {
            use std::os::unix::fs::PermissionsExt;
            let mode = std::fs::metadata(key).unwrap().permissions().mode();
            assert_eq!(mode & 0o777, 0o600, "{}", key.display());
        }
        let again = write_peer(folder.path(), "scheduler", &hosts, 30)
            .err()
            .unwrap();
        assert!(again.to_string().contains("scheduler.key"), "{again}");
        for name in ["../x", "ca", "", "a b"] {
            assert!(matches!(
                write_peer(folder.path(), name, &hosts, 30),
                Err(CertificateError::Name { .. })
            ));
        }
        assert!(matches!(
            write_peer(folder.path(), "nohost", &[], 30),
            Err(CertificateError::NoHost)
        ));
    }
}
