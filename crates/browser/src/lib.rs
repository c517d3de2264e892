//! A real browser for the console's tests: Chromium, headless, driven through chromedriver
//! (Debian's `chromium` and `chromium-driver`; `scripts/test` installs them when missing).

use std::os::unix::process::CommandExt;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use fantoccini::{Client, ClientBuilder, Locator};
use hyper_util::client::legacy::connect::HttpConnector;

/// A browser session and the chromedriver process behind it; both end when it is dropped.
/// Chromedriver leads a process group of its own, Chromium's processes with it, so that the
/// whole group is killed: killing chromedriver alone would leave Chromium running.
pub struct Browser {
    pub client: Client,
    driver: Child,
    base: String,
}

impl Drop for Browser {
    fn drop(&mut self) {
        let group = format!("-{}", self.driver.id());
        let _ = Command::new("kill")
            .args(["-s", "KILL", "--", &group])
            .status();
        let _ = self.driver.kill();
        let _ = self.driver.wait();
    }
}

impl Browser {
    /// A fresh headless Chromium that visits `base` (the server under test).
    pub async fn open(base: &str) -> Self {
        Self::open_with(base, &[]).await
    }

    /// The same, preferring the dark colour scheme.
    pub async fn open_dark(base: &str) -> Self {
        Self::open_with(base, &["--blink-settings=preferredColorScheme=0"]).await
    }

    async fn open_with(base: &str, extra_args: &[&str]) -> Self {
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .and_then(|listener| listener.local_addr())
            .expect("a free loopback port")
            .port();
        let driver = Command::new("chromedriver")
            .arg(format!("--port={port}"))
            .process_group(0)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .expect("chromedriver runs: install Debian's chromium-driver (scripts/test does)");
        let mut args = vec![
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--window-size=1280,1100",
        ];
        args.extend_from_slice(extra_args);
        let mut capabilities = serde_json::Map::new();
        capabilities.insert(
            "goog:chromeOptions".to_owned(),
            serde_json::json!({ "binary": "/usr/bin/chromium", "args": args }),
        );
        let mut last_error = None;
        for _ in 0..100 {
            match ClientBuilder::new(HttpConnector::new())
                .capabilities(capabilities.clone())
                .connect(&format!("http://127.0.0.1:{port}"))
                .await
            {
                Ok(client) => {
                    return Self {
                        client,
                        driver,
                        base: base.to_owned(),
                    };
                }
                Err(error) => {
                    last_error = Some(error);
                    tokio::time::sleep(Duration::from_millis(100)).await;
                }
            }
        }
        panic!("no browser session: {last_error:?}");
    }

    pub async fn visit(&self, path: &str) {
        self.client
            .goto(&format!("{}{path}", self.base))
            .await
            .unwrap();
    }

    pub async fn path(&self) -> String {
        let url = self.client.current_url().await.unwrap();
        match url.query() {
            Some(query) => format!("{}?{query}", url.path()),
            None => url.path().to_owned(),
        }
    }

    /// Waits up to 10 s for the browser to arrive at a path that starts with `prefix`.
    pub async fn wait_for_path(&self, prefix: &str) -> String {
        let mut path = String::new();
        for _ in 0..100 {
            path = self.path().await;
            if path.starts_with(prefix) {
                return path;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("the browser is at {path}, not {prefix}…");
    }

    /// Types `text` into the field, in place of what it held; then waits for the segment
    /// builder's check, if typing started one.
    pub async fn fill(&self, css: &str, text: &str) {
        let field = self.client.find(Locator::Css(css)).await.unwrap();
        field.clear().await.unwrap();
        field.send_keys(text).await.unwrap();
        self.settle().await;
    }

    /// Chooses the option `value` of a select; then waits for the segment builder's check, if
    /// the choice started one.
    pub async fn choose(&self, css: &str, value: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap()
            .select_by_value(value)
            .await
            .unwrap();
        self.settle().await;
    }

    pub async fn click(&self, css: &str) {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no {css}: {error}"))
            .click()
            .await
            .unwrap();
    }

    /// Clicks something that loads another page (a link, a submit button) and waits until that
    /// page has loaded, so that what follows looks at the new page.
    pub async fn follow(&self, css: &str) {
        self.client
            .execute("window.__segsync_old_page = true; return null;", vec![])
            .await
            .unwrap();
        self.click(css).await;
        for _ in 0..200 {
            let state = self
                .client
                .execute(
                    "return window.__segsync_old_page === true ? 'old' : document.readyState;",
                    vec![],
                )
                .await;
            if matches!(state, Ok(serde_json::Value::String(ref state)) if state == "complete") {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("clicking {css} did not load a page");
    }

    /// Waits up to 10 s until the segment builder has no check waiting or running, so that
    /// what follows sees the rows and the count the server sent back.
    pub async fn settle(&self) {
        for _ in 0..200 {
            let busy = self
                .client
                .execute(
                    "return document.querySelector('[data-checking]') !== null;",
                    vec![],
                )
                .await
                .unwrap();
            if busy == serde_json::Value::Bool(false) {
                return;
            }
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        panic!("the builder's check did not end");
    }

    pub async fn text(&self, css: &str) -> String {
        self.client
            .find(Locator::Css(css))
            .await
            .unwrap_or_else(|error| panic!("no {css}: {error}"))
            .text()
            .await
            .unwrap()
    }

    pub async fn has(&self, css: &str) -> bool {
        !self
            .client
            .find_all(Locator::Css(css))
            .await
            .unwrap()
            .is_empty()
    }

    /// Waits up to 30 s for the element's text to satisfy `done`.
    pub async fn wait_for_text(&self, css: &str, done: impl Fn(&str) -> bool) -> String {
        let mut last = String::new();
        for _ in 0..300 {
            if let Ok(element) = self.client.find(Locator::Css(css)).await
                && let Ok(text) = element.text().await
            {
                if done(&text) {
                    return text;
                }
                last = text;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        panic!("{css} still says {last:?}");
    }

    pub async fn sign_in(&self, username: &str, password: &str) {
        self.visit("/sign-in").await;
        self.fill("#username", username).await;
        self.fill("#password", password).await;
        self.follow("#sign-in").await;
    }

    /// Fails with every serious or critical accessibility violation of the page as it is now.
    pub async fn check_accessibility(&self) {
        let violations = self.accessibility_violations().await;
        let path = self.path().await;
        assert!(
            violations.is_empty(),
            "{path} has accessibility violations:\n{}",
            violations.join("\n")
        );
    }

    /// Runs axe-core's automated accessibility check (WCAG 2.1 A and AA, and best practice) on
    /// the page as it is now: each serious or critical violation, with the elements it found.
    /// `AXE_CORE` names axe-core's `axe.min.js`; `./scripts/test` installs it from the npm
    /// registry and sets it.
    pub async fn accessibility_violations(&self) -> Vec<String> {
        static AXE: std::sync::OnceLock<String> = std::sync::OnceLock::new();
        let axe = AXE.get_or_init(|| {
            let path = std::env::var("AXE_CORE").expect(
                "AXE_CORE names axe-core's axe.min.js; ./scripts/test installs it and sets it",
            );
            std::fs::read_to_string(&path).unwrap_or_else(|error| panic!("{path}: {error}"))
        });
        self.client
            .execute(&format!("{axe}\nreturn null;"), vec![])
            .await
            .expect("axe-core loads into the page");
        let found = self
            .client
            .execute_async(
                r#"const done = arguments[arguments.length - 1];
                axe.run(document, { runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "best-practice"] } })
                  .then(results => done(results.violations
                    .filter(v => v.impact === "serious" || v.impact === "critical")
                    .map(v => `${v.impact} ${v.id}: ${v.help}\n    ${v.nodes.map(n => n.target.join(" ") + " — " + n.failureSummary.replace(/\n/g, " ")).join("\n    ")}`)))
                  .catch(error => done([`axe-core failed: ${error}`]));"#,
                vec![],
            )
            .await
            .expect("axe-core runs");
        serde_json::from_value(found).unwrap()
    }

    /// Checks the page's accessibility, then saves its screenshot as `NAME`.
    pub async fn check_page(&self, name: &str) {
        self.check_accessibility().await;
        self.screenshot(name).await;
    }

    /// Scrolls the page until `css` is at the top of the window.
    pub async fn scroll_to(&self, css: &str) {
        self.client
            .execute(
                "document.querySelector(arguments[0]).scrollIntoView(); return null;",
                vec![serde_json::json!(css)],
            )
            .await
            .unwrap();
    }

    /// Saves a screenshot of the page as `target/screenshots/NAME.png`.
    pub async fn screenshot(&self, name: &str) {
        let folder = PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../../target/screenshots");
        std::fs::create_dir_all(&folder).unwrap();
        let png = self.client.screenshot().await.unwrap();
        std::fs::write(folder.join(format!("{name}.png")), png).unwrap();
    }
}
