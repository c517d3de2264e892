//! A run engine on a SQLite store of its own, a sandbox on port 0 with an authorised connection
//! in the store, profiles in a CSV file, and one export of them.

use std::sync::Arc;
use std::time::Duration;

use cc_sandbox::{RunningSandbox, SandboxConfig};
use constant_contact::{ApiConfig, Endpoints, OAuthClient, TokenSet};
use secrecy::SecretString;
use segsync_connections::{Clients, Sealer, seal_tokens};
use segsync_runs::{RunEngine, RunSettings, RunsConfig, Started, Workers};
use segsync_store::{
    Export, ExportDraft, NewConnection, NewUser, Role, Run, SegmentDraft, Store, Trigger, UsableBy,
};
use url::Url;
use uuid::Uuid;

const CLIENT_SECRET: &str = "test-secret";
const REDIRECT_URI: &str = "http://127.0.0.1:1/callback";

pub struct TestEngine {
    pub sandbox: RunningSandbox,
    pub engine: RunEngine,
    pub store: Store,
    pub export: Export,
    pub list_id: Uuid,
    pub client_id: String,
    pub user_id: Uuid,
    api: ApiConfig,
    /// The engine's settings and store, for another engine on the same store (another node).
    pub settings: RunSettings,
    database_url: String,
    pub folder: tempfile::TempDir,
}

/// `n` profiles, `person-0@example.com` on.
pub fn profiles_csv(n: usize) -> String {
    let mut csv = String::from("email,first_name\n");
    for i in 0..n {
        csv.push_str(&format!("person-{i}@example.com,Person{i}\n"));
    }
    csv
}

/// An engine whose workers are not started, over `n` profiles, with `settings` changed as
/// `adjust` says.
pub async fn spawn_engine(
    n: usize,
    adjust: impl FnOnce(&mut RunsConfig, &mut ApiConfig),
) -> TestEngine {
    spawn_engine_on(n, None, adjust, |_, _| {}).await
}

/// As `spawn_engine`, on the store at `database_url` (a SQLite file of its own when none), the
/// engine's settings changed by `settle` (which is given the test's folder) before it starts.
pub async fn spawn_engine_on(
    n: usize,
    database_url: Option<String>,
    adjust: impl FnOnce(&mut RunsConfig, &mut ApiConfig),
    settle: impl FnOnce(&mut RunSettings, &std::path::Path),
) -> TestEngine {
    let client_id = format!("runs-{}", Uuid::new_v4());
    let sandbox = cc_sandbox::spawn(
        SandboxConfig {
            requests_per_second: 1_000,
            activity_queue_time: Duration::from_millis(5),
            activity_processing_time: Duration::from_millis(10),
            auto_approve: true,
            ..SandboxConfig::default()
        }
        .with_client(&client_id, Some(CLIENT_SECRET), &[REDIRECT_URI])
        .with_lists(&["Newsletter", "Elsewhere"]),
        "127.0.0.1:0".parse().unwrap(),
    )
    .await
    .expect("the sandbox starts");
    let mut api = ApiConfig::new(&client_id)
        .with_endpoints(Endpoints::under(&Url::parse(&sandbox.base_url()).unwrap()))
        .with_client_secret(SecretString::from(CLIENT_SECRET))
        .with_redirect_uri(Url::parse(REDIRECT_URI).unwrap())
        .with_request_timeout(Duration::from_secs(5))
        .with_requests_per_second(1_000);
    let mut runs = RunsConfig {
        workers: 1,
        scheduler: false,
        shutdown_grace_seconds: 5,
        ..RunsConfig::default()
    };
    adjust(&mut runs, &mut api);

    let folder = tempfile::tempdir().unwrap();
    let database_url = database_url
        .unwrap_or_else(|| format!("sqlite://{}", folder.path().join("segsync.db").display()));
    let store = Store::open(&database_url).await.unwrap();
    let profiles = folder.path().join("profiles.csv");
    std::fs::write(&profiles, profiles_csv(n)).unwrap();

    let sealer = Sealer::new(&[7; 32], &[]);
    let user_id = store
        .create_user(&NewUser {
            username: "ada".into(),
            display_name: "Ada".into(),
            role: Role::Admin,
            password_hash: "unused".into(),
        })
        .await
        .unwrap()
        .id;
    let connection = store
        .create_connection(&NewConnection {
            name: "Constant Contact".into(),
            usable_by: UsableBy::Admins,
            created_by: user_id,
        })
        .await
        .unwrap();
    store.set_export_user(connection.id, user_id).await.unwrap();
    let tokens = authorize(&api).await;
    store
        .set_connection_tokens(connection.id, &seal_tokens(&sealer, connection.id, &tokens))
        .await
        .unwrap();
    let segment = store
        .create_segment(
            &SegmentDraft {
                name: "everyone".into(),
                description: None,
                rule: serde_json::from_value(
                    serde_json::json!({"attribute": "email", "op": "is_not_null"}),
                )
                .unwrap(),
            },
            user_id,
        )
        .await
        .unwrap();
    let list_id = sandbox
        .state()
        .lists()
        .into_iter()
        .find(|list| list.name == "Newsletter")
        .unwrap()
        .list_id;
    let export = store
        .create_export(
            &ExportDraft {
                name: "newsletter".into(),
                connection_id: connection.id,
                list_id,
                mapping: [("email".to_owned(), "email".to_owned())].into(),
                schedule_override: None,
                sync_mode: segsync_domain::SyncMode::AddOnly,
                guards: Default::default(),
                verify: Default::default(),
                segment_ids: vec![segment.id],
            },
            user_id,
        )
        .await
        .unwrap();
    let clients = Clients::new(store.clone(), api.clone(), Arc::new(sealer), "node-test").unwrap();
    let mut settings = RunSettings {
        runs,
        profiles: Some(segsync_engine::ProfileSource::new(
            profiles.to_string_lossy(),
        )),
        related: Vec::new(),
        member_limit: 1_000_000,
        engine: segsync_engine::EngineSettings::default(),
        opt_outs_write_to: None,
        exclusions_source: None,
        full_samples: true,
        watch: segsync_runs::follow::WatchConfig::default(),
    };
    settle(&mut settings, folder.path());
    TestEngine {
        engine: RunEngine::new(store.clone(), clients, settings.clone()),
        settings,
        database_url,
        sandbox,
        store,
        export,
        list_id,
        client_id,
        user_id,
        api,
        folder,
    }
}

/// The authorization URL followed on an auto-approving sandbox, and the code exchanged.
async fn authorize(api: &ApiConfig) -> TokenSet {
    let _ = rustls::crypto::ring::default_provider().install_default();
    let oauth = OAuthClient::new(
        api.clone(),
        constant_contact::api::http_client(api).unwrap(),
    );
    let request = oauth
        .authorization_url(&["contact_data", "offline_access"])
        .unwrap();
    let response = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
        .get(request.url.clone())
        .send()
        .await
        .unwrap();
    let location = Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    let code = location
        .query_pairs()
        .find(|(key, _)| key == "code")
        .unwrap()
        .1
        .into_owned();
    oauth
        .exchange_code(&code, &request.pkce_verifier)
        .await
        .unwrap()
}

impl TestEngine {
    /// Another engine on the same store and sandbox, as another node would have.
    pub async fn another_node(&self) -> RunEngine {
        let store = Store::open(&self.database_url).await.unwrap();
        let sealer = Sealer::new(&[7; 32], &[]);
        let clients = Clients::new(
            store.clone(),
            self.api.clone(),
            Arc::new(sealer),
            "node-other",
        )
        .unwrap();
        RunEngine::new(store, clients, self.settings.clone())
    }

    /// A run of the export queued for the workers, acting as its export user.
    pub async fn queue_run(&self) -> Run {
        match self
            .engine
            .start(&self.export, Trigger::Manual, Some(self.user_id))
            .await
            .unwrap()
        {
            Started::Queued(run) => run,
            Started::Skipped(run) => panic!("the run was skipped: {:?}", run.reason),
        }
    }

    /// The run as the store has it once `done` holds, or a panic after 60 s.
    pub async fn run_once(&self, id: Uuid, done: impl Fn(&Run) -> bool) -> Run {
        let deadline = tokio::time::Instant::now() + Duration::from_secs(60);
        loop {
            let run = self.store.run(id).await.unwrap();
            if done(&run) {
                return run;
            }
            assert!(
                tokio::time::Instant::now() < deadline,
                "the run did not get there: {run:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Starts the engine again as a new process would (what was left Running is queued again,
    /// new workers take it up) and returns the run once it ended.
    pub async fn resume_to_end(&self, id: Uuid) -> Run {
        self.engine
            .resume_interrupted_runs_at_start()
            .await
            .unwrap();
        let workers = Workers::start(&self.engine);
        let ended = self.run_once(id, |run| run.finished_at.is_some()).await;
        workers.stop(Duration::from_secs(5)).await;
        ended
    }

    pub fn list_members(&self) -> Vec<String> {
        let mut members = self.sandbox.state().list_members(self.list_id);
        members.sort();
        members
    }

    /// Imports the sandbox received.
    pub fn imports_received(&self) -> usize {
        self.sandbox
            .state()
            .requests()
            .into_iter()
            .filter(|request| request.endpoint == "contacts_json_import")
            .count()
    }

    /// An import of `n` other people to the list "Elsewhere", sent by someone else with a token
    /// of their own; returns its activity once Constant Contact has carried it out.
    pub async fn someone_elses_import(&self, n: usize) -> Uuid {
        let elsewhere = self.list_named("Elsewhere");
        let import_data: Vec<_> = (0..n)
            .map(|i| serde_json::json!({"email": format!("someone-else-{i}@example.org")}))
            .collect();
        let activity = self
            .post_as_someone_else(
                "activities/contacts_json_import",
                serde_json::json!({"import_data": import_data, "list_ids": [elsewhere]}),
            )
            .await;
        assert!(
            eventually(async || self.sandbox.state().list_members(elsewhere).len() == n).await,
            "someone else's import was not carried out"
        );
        activity
    }

    /// A removal of the first `n` people on the list "Elsewhere", sent by someone else.
    pub async fn someone_elses_removal(&self, n: usize) -> Uuid {
        let elsewhere = self.list_named("Elsewhere");
        let state = self.sandbox.state();
        let contact_ids: Vec<Uuid> = state
            .list_members(elsewhere)
            .iter()
            .take(n)
            .map(|email| {
                state
                    .contact(email)
                    .expect("a member is a contact")
                    .contact_id
            })
            .collect();
        self.post_as_someone_else(
            "activities/remove_list_memberships",
            serde_json::json!({"source": {"contact_ids": contact_ids}, "list_ids": [elsewhere]}),
        )
        .await
    }

    fn list_named(&self, name: &str) -> Uuid {
        self.sandbox
            .state()
            .lists()
            .into_iter()
            .find(|list| list.name == name)
            .expect("the sandbox has the list")
            .list_id
    }

    /// Posts `body` to the API's `path` with an access token of someone else's; the activity.
    async fn post_as_someone_else(&self, path: &str, body: serde_json::Value) -> Uuid {
        use secrecy::ExposeSecret;
        let tokens = authorize(&self.api).await;
        let response = reqwest::Client::new()
            .post(format!("{}/v3/{path}", self.sandbox.base_url()))
            .bearer_auth(tokens.access_token.expose_secret())
            .json(&body)
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 201, "{path}");
        let activity: serde_json::Value = response.json().await.unwrap();
        activity["activity_id"].as_str().unwrap().parse().unwrap()
    }
}

/// Waits up to four seconds for `done`, looking every 20 ms; whether it came.
pub async fn eventually(mut done: impl AsyncFnMut() -> bool) -> bool {
    for _ in 0..200 {
        if done().await {
            return true;
        }
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    false
}
