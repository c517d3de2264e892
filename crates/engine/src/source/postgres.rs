//! PostgreSQL tables and views, through `datafusion-table-providers-postgres`: DataFusion plans
//! the segment, and the filters PostgreSQL runs exactly as DataFusion does (`postgres_pushdown`)
//! run in the database.
//!
//! The location is `postgres://user@host:port/database`; `table` (`schema.table` or `table`)
//! names the table or view. The password comes from the URL, the `password` option (better:
//! `password_file` or `password_env`) or `PGPASSWORD`; `sslmode` is `disable`, `prefer`,
//! `require`, `verify-ca` or `verify-full`. Without one, a database on this machine (a loopback
//! address or `localhost`) is `prefer` and any other `require`: profiles and the password do
//! not cross a network in the clear unless asked to. Sessions are read-only, and a statement
//! ends after `statement_timeout_seconds` (an hour unless told).

use std::collections::HashMap;
use std::sync::Arc;

use datafusion::common::TableReference;
use datafusion::prelude::{DataFrame, SessionContext};
use datafusion_table_providers_postgres::PostgresTableFactory;
use datafusion_table_providers_postgres::pool::PostgresConnectionPool;
use secrecy::SecretString;
use segsync_domain::{ChainExt, ErrorChain};
use url::Url;

use super::Reader;
use super::object_stores::Failure;
use super::options::SourceOptions;
use super::postgres_on_cluster::PostgresOnCluster;
use super::postgres_pushdown::ExactPushdown;
use crate::error::SourcePart;

/// The options a PostgreSQL source reads; any other is refused.
pub(crate) const POSTGRES_KEYS: &[&str] = &[
    "format",
    "table",
    "sslmode",
    "sslrootcert",
    "password",
    "statement_timeout_seconds",
    "changed_by",
    "partition_column",
    "partitions",
];

/// How long one statement may take unless `statement_timeout_seconds` says otherwise: a run's
/// default time budget, so a query that hangs ends with the run instead of holding the database.
const DEFAULT_STATEMENT_TIMEOUT_SECONDS: u64 = 3600;

/// Connections a source keeps open: a segment count or a member stream uses one at a time.
const POOL_SIZE: &str = "4";

/// The table or view a location names. For a cluster, the node reads its columns and the
/// executors its rows (see `postgres_on_cluster.rs`).
pub(crate) async fn read_postgres(
    ctx: &SessionContext,
    url: &Url,
    options: &SourceOptions,
    reader: Reader,
) -> Result<DataFrame, Failure> {
    let (factory, table) = connect(url, options, Access::ReadOnly).await?;
    let provider = factory
        .table_provider(TableReference::from(table.as_str()))
        .await
        .map_err(|error| table_failure(&table, error.as_ref()))?;
    let provider: Arc<dyn datafusion::catalog::TableProvider> = match reader {
        Reader::Node => Arc::new(ExactPushdown::new(provider)),
        Reader::Cluster => Arc::new(PostgresOnCluster::new(url, options, provider.schema())?),
    };
    ctx.read_table(provider)
        .map_err(|error| (SourcePart::Format, error.to_string()))
}

/// The table of a PostgreSQL location as DataFusion writes to it (`INSERT`): the table must
/// exist, with the columns written.
pub(crate) async fn writable_table(
    url: &Url,
    options: &SourceOptions,
) -> Result<Arc<dyn datafusion::catalog::TableProvider>, Failure> {
    let (factory, table) = connect(url, options, Access::ReadWrite).await?;
    factory
        .read_write_table_provider(TableReference::from(table.as_str()))
        .await
        .map_err(|error| table_failure(&table, error.as_ref()))
}

/// Whether the session may write.
#[derive(Clone, Copy, PartialEq, Eq)]
pub(super) enum Access {
    ReadOnly,
    ReadWrite,
}

fn table_failure(table: &str, error: &(dyn std::error::Error + 'static)) -> Failure {
    // The pool says only "connection failed" and keeps PostgreSQL's own words ("database …
    // does not exist") in its source.
    let text = ErrorChain(error).to_string();
    let part = if text.contains("does not exist") || text.contains("not found") {
        SourcePart::Path
    } else {
        connection_failure(&text).0
    };
    (part, format!("table {table}: {text}"))
}

/// A table factory on the location's database, and the table the location names.
pub(super) async fn connect(
    url: &Url,
    options: &SourceOptions,
    access: Access,
) -> Result<(PostgresTableFactory, String), Failure> {
    let (pool, table) = connect_pool(url, options, access).await?;
    Ok((PostgresTableFactory::new(pool), table))
}

/// The value of the source's `changed_by` — a column (its maximum is read) or a query that
/// answers one value — as text; none when the source has no `changed_by`.
pub(crate) async fn changed_by(
    url: &Url,
    options: &SourceOptions,
) -> Result<Option<String>, Failure> {
    let Some(changed_by) = options
        .get("changed_by")
        .map_err(|error| (SourcePart::Options, error.to_string()))?
    else {
        return Ok(None);
    };
    let (pool, table) = connect_pool(url, options, Access::ReadOnly).await?;
    let changed_by = changed_by.trim();
    let sql = if changed_by.to_ascii_lowercase().starts_with("select") {
        format!("SELECT CAST(({changed_by}) AS text)")
    } else {
        format!(
            "SELECT CAST(max(\"{}\") AS text) FROM {table}",
            changed_by.replace('"', "\"\"")
        )
    };
    let connection = pool
        .connect_direct()
        .await
        .map_err(|error| connection_failure(&error.chain().to_string()))?;
    let row = connection
        .conn
        .query_one(&sql, &[])
        .await
        .map_err(|error| {
            (
                SourcePart::Options,
                format!("changed_by ({sql}): {}", ErrorChain(&error)),
            )
        })?;
    let value: Option<String> = row.try_get(0).map_err(|error| {
        (
            SourcePart::Options,
            format!(
                "changed_by answers one value as text: {}",
                ErrorChain(&error)
            ),
        )
    })?;
    Ok(Some(value.unwrap_or_else(|| "(none)".to_owned())))
}

/// A connection pool to the location's database, and the table the location names.
async fn connect_pool(
    url: &Url,
    options: &SourceOptions,
    access: Access,
) -> Result<(Arc<PostgresConnectionPool>, String), Failure> {
    let option = |key: &str| {
        options
            .get(key)
            .map_err(|error| (SourcePart::Options, error.to_string()))
    };
    if let Some(unknown) = options.keys().find(|key| !POSTGRES_KEYS.contains(key)) {
        return Err((
            SourcePart::Options,
            format!(
                "{unknown:?} is not an option of a PostgreSQL source ({})",
                POSTGRES_KEYS.join(", ")
            ),
        ));
    }
    let query: HashMap<String, String> = url.query_pairs().into_owned().collect();
    let from_url_or_option = |key: &str| -> Result<Option<String>, Failure> {
        Ok(option(key)?.or_else(|| query.get(key).cloned()))
    };
    let table = from_url_or_option("table")?.ok_or_else(|| {
        (
            SourcePart::Options,
            "a PostgreSQL source needs `table`: the table or view that holds the profiles"
                .to_owned(),
        )
    })?;
    let database = url.path().trim_start_matches('/');
    if database.is_empty() {
        return Err((
            SourcePart::Path,
            "the URL names no database: postgres://user@host:port/database".to_owned(),
        ));
    }
    let mut params: HashMap<String, SecretString> = HashMap::new();
    let mut set = |key: &str, value: String| {
        params.insert(key.to_owned(), SecretString::from(value));
    };
    set("host", url.host_str().unwrap_or("localhost").to_owned());
    set("port", url.port().unwrap_or(5432).to_string());
    set("db", percent_decoded(database));
    if !url.username().is_empty() {
        set("user", percent_decoded(url.username()));
    }
    let password = match url.password() {
        Some(password) => Some(percent_decoded(password)),
        None => option("password")?.or_else(|| std::env::var("PGPASSWORD").ok()),
    };
    if let Some(password) = password {
        set("pass", password);
    }
    set(
        "sslmode",
        from_url_or_option("sslmode")?.unwrap_or_else(|| default_sslmode(url).to_owned()),
    );
    if let Some(root_certificate) = from_url_or_option("sslrootcert")? {
        set("sslrootcert", root_certificate);
    }
    set("connection_pool_size", POOL_SIZE.to_owned());
    let statement_timeout = match from_url_or_option("statement_timeout_seconds")? {
        None => DEFAULT_STATEMENT_TIMEOUT_SECONDS,
        Some(seconds) => seconds.trim().parse().map_err(|_| {
            (
                SourcePart::Options,
                format!("statement_timeout_seconds {seconds:?} is not a whole number of seconds"),
            )
        })?,
    };
    // Sources are only read (write-back targets only appended to); each statement has a time
    // limit.
    set("options", session_options(statement_timeout, access));

    let pool = PostgresConnectionPool::new(params)
        .await
        .map_err(|error| connection_failure(&error.chain().to_string()))?;
    Ok((Arc::new(pool), table))
}

/// The session's settings: read-only transactions unless writing, and statements that end after
/// `seconds`.
fn session_options(seconds: u64, access: Access) -> String {
    let read_only = match access {
        Access::ReadOnly => "on",
        Access::ReadWrite => "off",
    };
    format!(
        "-c default_transaction_read_only={read_only} -c statement_timeout={}",
        seconds.saturating_mul(1000)
    )
}

/// `prefer` for a database on this machine, `require` for any other.
fn default_sslmode(url: &Url) -> &'static str {
    // A `postgres:` URL's host is opaque text to the URL parser, addresses included.
    let on_this_machine = match url.host() {
        None => true,
        Some(url::Host::Domain(name)) => {
            name.eq_ignore_ascii_case("localhost")
                || name
                    .trim_start_matches('[')
                    .trim_end_matches(']')
                    .parse::<std::net::IpAddr>()
                    .is_ok_and(|address| address.is_loopback())
        }
        Some(url::Host::Ipv4(address)) => address.is_loopback(),
        Some(url::Host::Ipv6(address)) => address.is_loopback(),
    };
    if on_this_machine { "prefer" } else { "require" }
}

fn percent_decoded(text: &str) -> String {
    percent_encoding::percent_decode_str(text)
        .decode_utf8_lossy()
        .into_owned()
}

/// Which part a failure to connect points at, from PostgreSQL's message.
fn connection_failure(text: &str) -> Failure {
    let part = if text.contains("password") || text.contains("authentication") {
        SourcePart::Credentials
    } else if text.contains("does not exist") {
        SourcePart::Path
    } else {
        SourcePart::Connection
    };
    (part, text.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_database_across_a_network_requires_tls_unless_told_otherwise() {
        let sslmode = |url: &str| default_sslmode(&Url::parse(url).unwrap());
        for on_this_machine in [
            "postgres://segsync@localhost/crm",
            "postgres://segsync@127.0.0.1:5433/crm",
            "postgres://segsync@[::1]/crm",
        ] {
            assert_eq!(sslmode(on_this_machine), "prefer", "{on_this_machine}");
        }
        for across_a_network in [
            "postgres://segsync@db.example.com/crm",
            "postgres://segsync@10.0.0.7/crm",
            "postgres://segsync@[2001:db8::7]/crm",
        ] {
            assert_eq!(sslmode(across_a_network), "require", "{across_a_network}");
        }
    }

    #[test]
    fn sessions_are_read_only_unless_writing_back_and_statements_end_in_time() {
        assert_eq!(
            session_options(90, Access::ReadOnly),
            "-c default_transaction_read_only=on -c statement_timeout=90000"
        );
        assert_eq!(
            session_options(90, Access::ReadWrite),
            "-c default_transaction_read_only=off -c statement_timeout=90000"
        );
    }
}
