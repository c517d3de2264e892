//! An S3-compatible server on loopback for the tests: moto's server (from PyPI), which
//! `./scripts/test` installs and names in `MOTO_SERVER`. Each test starts its own on a port the
//! system picks, and it stops when the test drops it.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};
use std::sync::Arc;

use object_store::ObjectStore;
use object_store::aws::AmazonS3Builder;
use object_store::path::Path as StorePath;
use object_store::{ObjectStoreExt, PutPayload};
use segsync_engine::ProfileSource;
use tokio::io::{AsyncReadExt, AsyncWriteExt};

pub struct S3Server {
    child: Child,
    pub endpoint: String,
}

impl S3Server {
    pub fn start() -> Self {
        let program = std::env::var("MOTO_SERVER").expect(
            "MOTO_SERVER names moto's S3-compatible server; ./scripts/test installs it and sets it",
        );
        let mut child = Command::new(program)
            .args(["-H", "127.0.0.1", "-p", "0"])
            .stdout(Stdio::null())
            .stderr(Stdio::piped())
            .spawn()
            .expect("moto's server starts");
        let stderr = child.stderr.take().expect("piped");
        let mut lines = BufReader::new(stderr).lines();
        let endpoint = loop {
            let line = lines
                .next()
                .expect("moto's server says where it listens")
                .expect("its output is text");
            if let Some(at) = line.find("http://127.0.0.1:") {
                break line[at..].trim().to_owned();
            }
        };
        // The server keeps writing a line per request: read them so it never blocks.
        std::thread::spawn(move || lines.for_each(drop));
        Self { child, endpoint }
    }

    /// Creates a bucket (S3's `PUT /bucket`; moto takes it unsigned).
    pub async fn create_bucket(&self, bucket: &str) {
        let address = self.endpoint.trim_start_matches("http://");
        let mut stream = tokio::net::TcpStream::connect(address).await.unwrap();
        let request = format!(
            "PUT /{bucket} HTTP/1.1\r\nHost: {address}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
        );
        stream.write_all(request.as_bytes()).await.unwrap();
        let mut answer = String::new();
        stream.read_to_string(&mut answer).await.unwrap();
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
    }

    /// The options a source in this server needs.
    pub fn source(&self, location: &str) -> ProfileSource {
        ProfileSource::new(location)
            .with_option("endpoint", &self.endpoint)
            .with_option("allow_http", "true")
            .with_option("region", "us-east-1")
            .with_option("access_key_id", "segsync-test")
            .with_option("secret_access_key", "segsync-test-secret")
    }

    pub fn store(&self, bucket: &str) -> Arc<dyn ObjectStore> {
        Arc::new(
            AmazonS3Builder::new()
                .with_endpoint(&self.endpoint)
                .with_allow_http(true)
                .with_region("us-east-1")
                .with_bucket_name(bucket)
                .with_access_key_id("segsync-test")
                .with_secret_access_key("segsync-test-secret")
                .build()
                .unwrap(),
        )
    }

    /// Uploads a local file, or every file under a local folder, to `prefix` in `bucket`.
    pub async fn upload(&self, bucket: &str, local: &std::path::Path, prefix: &str) {
        let store = self.store(bucket);
        let mut files = Vec::new();
        collect_files(local, local, &mut files);
        for (relative, path) in files {
            let key = if relative.is_empty() {
                prefix.to_owned()
            } else {
                format!("{}/{relative}", prefix.trim_end_matches('/'))
            };
            let bytes = std::fs::read(&path).unwrap();
            store
                .put(&StorePath::from(key), PutPayload::from(bytes))
                .await
                .unwrap();
        }
    }
}

fn collect_files(
    root: &std::path::Path,
    path: &std::path::Path,
    files: &mut Vec<(String, std::path::PathBuf)>,
) {
    if path.is_file() {
        let relative = path
            .strip_prefix(root)
            .unwrap()
            .to_string_lossy()
            .into_owned();
        files.push((relative, path.to_path_buf()));
        return;
    }
    for entry in std::fs::read_dir(path).unwrap() {
        collect_files(root, &entry.unwrap().path(), files);
    }
}

impl Drop for S3Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
