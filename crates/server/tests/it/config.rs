//! Configuration layers: defaults, file, environment, secrets from files.

use std::io::Write;

use secrecy::ExposeSecret;
use segsync_server::ServerConfig;
use segsync_server::config::ConfigError;

#[test]
fn layers_apply_in_order_and_secrets_come_from_files() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("segsync.toml");
    std::fs::write(
        &file,
        "database_url = \"sqlite://from-file.db\"\nsession_hours = 4\n[constant_contact]\nclient_id = \"file-client\"\n",
    )
    .unwrap();
    let key_file = folder.path().join("key");
    write!(
        std::fs::File::create(&key_file).unwrap(),
        "{}\n",
        "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    )
    .unwrap();

    figment::Jail::expect_with(|jail| {
        jail.set_env("SEGSYNC_SESSION_HOURS", "2");
        jail.set_env("SEGSYNC_CONSTANT_CONTACT__REQUESTS_PER_SECOND", "2");
        jail.set_env("SEGSYNC_ENCRYPTION_KEY_FILE", key_file.to_str().unwrap());
        let config = ServerConfig::extract(&ServerConfig::load(Some(&file)).unwrap()).unwrap();
        assert_eq!(
            config.database_url, "sqlite://from-file.db",
            "the file over the defaults"
        );
        assert_eq!(config.session_hours, 2, "the environment over the file");
        assert_eq!(config.constant_contact.client_id, "file-client");
        assert_eq!(config.constant_contact.requests_per_second, 2);
        assert_eq!(
            config.constant_contact.requests_per_day, 10_000,
            "defaults fill the rest"
        );
        assert_eq!(
            config.encryption_key.as_ref().unwrap().expose_secret(),
            "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
        );
        assert_eq!(config.encryption_key().unwrap(), [b'A'; 32]);
        assert!(
            !format!("{config:?}").contains("QUFB"),
            "Debug output redacts secrets"
        );
        Ok(())
    });
}

#[test]
fn unknown_keys_and_bad_keys_are_refused_by_name() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("segsync.toml");
    std::fs::write(&file, "databse_url = \"sqlite://typo.db\"\n").unwrap();
    let error = ServerConfig::extract(&ServerConfig::load(Some(&file)).unwrap()).unwrap_err();
    assert!(error.to_string().contains("databse_url"), "{error}");

    let short = ServerConfig {
        encryption_key: Some("c2hvcnQ=".into()),
        ..ServerConfig::default()
    };
    assert!(
        matches!(short.encryption_key(), Err(ConfigError::EncryptionKey(message)) if message.contains("5 bytes"))
    );
    let missing = ServerConfig::default().check().unwrap_err();
    assert!(
        missing.to_string().contains("openssl rand -base64 32"),
        "{missing}"
    );
}
