//! The console's tests drive a real browser: headless Chromium, from the workspace's
//! `segsync-test-browser`.

pub(crate) use segsync_test_browser::Browser;
