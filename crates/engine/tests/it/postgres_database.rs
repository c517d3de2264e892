//! A PostgreSQL database of generated profiles, made for one test on the server
//! `./scripts/test` starts and names in `POSTGRES_TEST_URL`.

use segsync_engine::ProfileSource;
use sqlx::{Connection, PgConnection, QueryBuilder};
use url::Url;

use crate::fixtures::Row;

/// A PostgreSQL database made for one test, with the generated rows in `crm.profiles` and
/// the adults among them in the view `crm.adults`. It is set up as unkindly as servers are: the
/// `C` locale (whose `lower` folds only ASCII) and a session time zone fourteen hours from UTC.
pub struct PostgresProfiles {
    /// The database's URL without its password, as a source names it.
    pub url: Url,
    pub password: String,
}

impl PostgresProfiles {
    pub async fn create(rows: &[Row]) -> Self {
        let server = std::env::var("POSTGRES_TEST_URL").expect(
            "POSTGRES_TEST_URL names the PostgreSQL server for the source tests; ./scripts/test starts one and sets it",
        );
        let name = format!("segsync_test_{:016x}", rand::random::<u64>());
        let mut admin = PgConnection::connect(&server).await.unwrap();
        for statement in [
            format!(
                "CREATE DATABASE {name} TEMPLATE template0 ENCODING 'UTF8' LC_COLLATE 'C' LC_CTYPE 'C'"
            ),
            format!("ALTER DATABASE {name} SET timezone TO 'Pacific/Kiritimati'"),
        ] {
            sqlx::query(&statement).execute(&mut admin).await.unwrap();
        }
        admin.close().await.unwrap();

        let mut url = Url::parse(&server).unwrap();
        url.set_path(&name);
        let mut connection = PgConnection::connect(url.as_str()).await.unwrap();
        for statement in [
            "CREATE SCHEMA crm",
            "CREATE TABLE crm.profiles (id bigint PRIMARY KEY, name text, country text, \
             age bigint, score double precision, joined date, seen_at timestamptz, active boolean)",
            "CREATE VIEW crm.adults AS SELECT * FROM crm.profiles WHERE age >= 18",
        ] {
            sqlx::query(statement)
                .execute(&mut connection)
                .await
                .unwrap();
        }
        for chunk in rows.chunks(1_000) {
            let mut insert = QueryBuilder::new(
                "INSERT INTO crm.profiles (id, name, country, age, score, joined, seen_at, active) ",
            );
            insert.push_values(chunk, |mut values, row| {
                values
                    .push_bind(row.id)
                    .push_bind(row.name.clone())
                    .push_bind(row.country.clone())
                    .push_bind(row.age)
                    .push_bind(row.score)
                    .push_bind(row.joined.map(|date| date.to_string()))
                    .push_unseparated("::date")
                    .push_bind(row.seen_at.map(|instant| instant.to_rfc3339()))
                    .push_unseparated("::timestamptz")
                    .push_bind(row.active);
            });
            insert.build().execute(&mut connection).await.unwrap();
        }
        connection.close().await.unwrap();

        let password = url.password().unwrap_or_default().to_owned();
        url.set_password(None).unwrap();
        Self { url, password }
    }

    /// The source of a table or view of this database, its password given as an option.
    pub fn source(&self, table: &str) -> ProfileSource {
        self.source_at(&self.url, table)
    }

    /// A source of `table` at another URL (another database or port), with this password.
    pub fn source_at(&self, url: &Url, table: &str) -> ProfileSource {
        ProfileSource::new(url.as_str())
            .with_option("table", table)
            .with_option("sslmode", "disable")
            .with_option("password", &self.password)
    }
}
