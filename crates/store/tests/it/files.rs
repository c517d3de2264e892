//! The embedded database's files are its owner's alone: they hold password hashes and sealed
//! tokens.

use std::os::unix::fs::PermissionsExt;

use segsync_store::{NewUser, Role, Store};

fn mode(path: &std::path::Path) -> u32 {
    std::fs::metadata(path).unwrap().permissions().mode() & 0o777
}

#[tokio::test]
async fn a_new_sqlite_file_and_its_write_ahead_log_are_readable_by_their_owner_only() {
    let folder = tempfile::tempdir().unwrap();
    let file = folder.path().join("segsync.db");
    let store = Store::open(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    store
        .create_user(&NewUser {
            username: "ada".into(),
            display_name: "Ada".into(),
            role: Role::Admin,
            password_hash: "hash".into(),
        })
        .await
        .unwrap();
    assert_eq!(mode(&file), 0o600);
    let wal = folder.path().join("segsync.db-wal");
    assert!(wal.exists(), "the store writes ahead");
    assert_eq!(mode(&wal), 0o600);
    store.close().await;

    // An existing file keeps what its owner gave it.
    std::fs::set_permissions(&file, std::fs::Permissions::from_mode(0o640)).unwrap();
    let again = Store::open(&format!("sqlite://{}", file.display()))
        .await
        .unwrap();
    assert_eq!(again.users().await.unwrap().len(), 1);
    assert_eq!(mode(&file), 0o640);
    again.close().await;
}
