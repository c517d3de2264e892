//! Configuration layers: defaults, file, environment, secrets from files.

use std::io::Write;

use secrecy::ExposeSecret;
use segsync_server::ServerConfig;
use segsync_server::config::{AlertEvent, AlertsConfig, ConfigError, WebhookConfig};

#[test]
// `Jail`'s closure must return figment's own (large) error type.
#[allow(clippy::result_large_err)]
fn layers_apply_in_order_and_secrets_come_from_files() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("segsync.toml");
    std::fs::write(
        &file,
        "database_url = \"sqlite://from-file.db\"\nsession_hours = 4\n[constant_contact]\nclient_id = \"file-client\"\n",
    )
    .unwrap();
    let key_file = folder.path().join("key");
    writeln!(
        std::fs::File::create(&key_file).unwrap(),
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
fn webhooks_load_from_the_file_with_their_events_and_secrets_redacted() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("segsync.toml");
    std::fs::write(
        &file,
        "encryption_key = \"QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=\"\n\
         [[alerts.webhooks]]\nurl = \"https://hooks.example.com/a\"\nsecret = \"hush-hush\"\n\
         [[alerts.webhooks]]\nurl = \"https://hooks.example.com/b\"\nevents = [\"run.timed_out\"]\n",
    )
    .unwrap();
    let config = ServerConfig::extract(&ServerConfig::load(Some(&file)).unwrap()).unwrap();
    config.check().unwrap();
    let [every, timed_out] = &config.alerts.webhooks[..] else {
        panic!("two webhooks: {:?}", config.alerts.webhooks);
    };
    assert!(every.wants(AlertEvent::RunFailed) && every.wants(AlertEvent::RunTimedOut));
    assert_eq!(every.secret.as_ref().unwrap().expose_secret(), "hush-hush");
    assert!(timed_out.wants(AlertEvent::RunTimedOut));
    assert!(!timed_out.wants(AlertEvent::ConnectionNeedsReauthentication));
    assert!(
        !format!("{config:?}").contains("hush-hush"),
        "Debug redacts the secret"
    );

    std::fs::write(
        &file,
        "[[alerts.webhooks]]\nurl = \"https://hooks.example.com/a\"\nevents = [\"run.exploded\"]\n",
    )
    .unwrap();
    let error = ServerConfig::extract(&ServerConfig::load(Some(&file)).unwrap()).unwrap_err();
    assert!(error.to_string().contains("run.exploded"), "{error}");

    let ftp = ServerConfig {
        encryption_key: Some("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=".into()),
        alerts: AlertsConfig {
            webhooks: vec![WebhookConfig {
                url: "ftp://hooks.example.com/".parse().unwrap(),
                secret: None,
                events: Vec::new(),
            }],
            ..AlertsConfig::default()
        },
        ..ServerConfig::default()
    };
    let error = ftp.check().unwrap_err();
    assert!(error.to_string().contains("alerts.webhooks.url"), "{error}");
}

/// A node refuses, before it starts, a cluster on another machine without the TLS files to
/// authenticate it, and TLS files it cannot use, naming the file.
#[test]
fn a_cluster_beyond_this_machine_needs_usable_tls_files() {
    let folder = tempfile::tempdir().unwrap();
    let on = |cluster: &str, tls: Option<segsync_engine::ClusterTls>| ServerConfig {
        encryption_key: Some("QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE=".into()),
        engine: segsync_engine::EngineSettings::default()
            .with_cluster(Some(cluster.to_owned()))
            .with_cluster_tls(tls),
        ..ServerConfig::default()
    };
    on("df://127.0.0.1:50050", None).check().unwrap();
    let error = on("df://10.0.0.5:50050", None)
        .check()
        .unwrap_err()
        .to_string();
    assert!(
        error.contains("engine.cluster") && error.contains("cluster_tls"),
        "{error}"
    );
    let missing = folder.path().join("ca.pem");
    let tls = segsync_engine::ClusterTls {
        ca: missing.clone(),
        certificate: folder.path().join("node.pem"),
        key: folder.path().join("node.key"),
    };
    let error = on("df://10.0.0.5:50050", Some(tls))
        .check()
        .unwrap_err()
        .to_string();
    assert!(error.contains(&*missing.to_string_lossy()), "{error}");
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

#[test]
fn the_example_file_lists_every_key_and_loads() {
    let example = concat!(env!("CARGO_MANIFEST_DIR"), "/../../segsync.example.toml");
    let config =
        ServerConfig::extract(&ServerConfig::load(Some(std::path::Path::new(example))).unwrap())
            .unwrap();
    let defaults = ServerConfig::default();
    assert_eq!(config.database_url, defaults.database_url);
    assert_eq!(
        config.constant_contact.api_base_url,
        defaults.constant_contact.api_base_url
    );
    let text = std::fs::read_to_string(example).unwrap();
    let defaults = serde_json::to_value(&defaults).unwrap();
    let mut keys: Vec<String> = defaults.as_object().unwrap().keys().cloned().collect();
    keys.extend(
        defaults["constant_contact"]
            .as_object()
            .unwrap()
            .keys()
            .cloned(),
    );
    for key in keys {
        assert!(
            text.contains(&format!("{key} ="))
                || text.contains(&format!("# {key} ="))
                || text.contains(&format!("[{key}]"))
                || text.contains(&format!("[{key}.")),
            "segsync.example.toml does not mention {key}"
        );
    }
}

#[test]
fn related_tables_load_by_name_from_the_file() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("segsync.toml");
    std::fs::write(
        &file,
        "profiles = \"profiles.parquet\"\n[related.orders]\nsource = \"orders/*.parquet\"\nkey = \"customer_id\"\nprofile_key = \"profile_id\"\ndated_by = \"ordered_at\"\n[related.opens]\nsource = { location = \"s3://lake/opens/\", format = \"json\", region = \"eu-west-1\" }\nkey = \"email_id\"\nprofile_key = \"email_id\"\n",
    )
    .unwrap();
    let config = ServerConfig::extract(&ServerConfig::load(Some(&file)).unwrap()).unwrap();
    let tables = config.related_tables();
    let names: Vec<&str> = tables.iter().map(|table| table.name.as_str()).collect();
    assert_eq!(names, ["opens", "orders"]);
    assert_eq!(tables[1].dated_by.as_deref(), Some("ordered_at"));
    assert_eq!(
        tables[0].source.options.get("region").unwrap().as_deref(),
        Some("eu-west-1")
    );
    let unknown = folder.path().join("unknown.toml");
    std::fs::write(
        &unknown,
        "[related.orders]\nsource = \"o.parquet\"\nkey = \"c\"\nprofile_key = \"p\"\ndate = \"d\"\n",
    )
    .unwrap();
    let error = ServerConfig::extract(&ServerConfig::load(Some(&unknown)).unwrap()).unwrap_err();
    assert!(error.to_string().contains("date"), "{error}");
}
