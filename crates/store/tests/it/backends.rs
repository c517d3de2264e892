//! A fresh, empty store on each database: a SQLite file in a temporary folder, and a new
//! database on the PostgreSQL server named by `POSTGRES_TEST_URL` (`./scripts/test`
//! starts one and sets it).

use segsync_store::Store;
use sqlx::Connection;

pub(crate) struct TestStore {
    pub(crate) store: Store,
    /// The SQLite file's folder, removed when the test ends.
    _folder: Option<tempfile::TempDir>,
}

impl std::ops::Deref for TestStore {
    type Target = Store;
    fn deref(&self) -> &Store {
        &self.store
    }
}

pub(crate) async fn sqlite() -> TestStore {
    let folder = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}", folder.path().join("segsync.db").display());
    TestStore {
        store: Store::open(&url).await.unwrap(),
        _folder: Some(folder),
    }
}

pub(crate) async fn postgres() -> TestStore {
    let server = std::env::var("POSTGRES_TEST_URL").expect(
        "POSTGRES_TEST_URL names the PostgreSQL server for the store tests; ./scripts/test starts one and sets it",
    );
    let name = format!("segsync_test_{}", uuid::Uuid::new_v4().simple());
    sqlx::any::install_default_drivers();
    let mut admin = sqlx::AnyConnection::connect(&server).await.unwrap();
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await
        .unwrap();
    admin.close().await.unwrap();
    let mut url = url::Url::parse(&server).unwrap();
    url.set_path(&name);
    TestStore {
        store: Store::open(url.as_str()).await.unwrap(),
        _folder: None,
    }
}

/// Runs a store test once on each database.
macro_rules! on_both {
    ($test:ident) => {
        mod $test {
            #[tokio::test]
            async fn sqlite() {
                super::$test(crate::backends::sqlite().await).await;
            }

            #[tokio::test]
            async fn postgres() {
                super::$test(crate::backends::postgres().await).await;
            }
        }
    };
}
pub(crate) use on_both;
