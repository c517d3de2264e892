//! `segsync demo`: the main job on the embedded defaults. Generates sample profiles, starts the
//! Constant Contact sandbox in this process with Constant Contact's real limits, connects to it
//! with OAuth, creates a list, defines three segments (one over the profiles' orders), exports
//! them, and shows the report and what the list now holds.

use std::io::Write;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use cc_sandbox::SandboxConfig;
use chrono::Utc;
use constant_contact::api::ContactQuery;
use constant_contact::{ApiConfig, ConstantContact, Endpoints, MemoryTokenStore};
use constant_contact::{NewContactList, NewCustomField};
use secrecy::SecretString;
use segsync_domain::segment::{RunClock, SegmentFormat, parse_segments};
use segsync_domain::{ContactField, FieldMapping, VerifySchedule};
use segsync_engine::{ProfileSource, Profiles, RelatedTable};
use segsync_export::{ExportPlan, RunOutcome};
use url::Url;

use crate::cli::DemoArgs;
use crate::connect::authorize_with_sandbox;
use crate::local_run::{self, RunRequest, carry_out_here};
use crate::progress::counter;
use crate::sample::write_profiles;
use crate::sample_orders::write_orders;
use crate::state_file::StateFile;

const CLIENT_ID: &str = "segsync-demo";
/// The demo's generated files in its folder.
pub(super) const PROFILES_FILE: &str = "profiles.parquet";
pub(super) const ORDERS_FILE: &str = "orders.parquet";
const CLIENT_SECRET: &str = "segsync-demo-secret";
/// Where the demo says Constant Contact sends the browser back; registered with the sandbox.
const REDIRECT_URI: &str = "http://127.0.0.1/segsync/oauth/callback";

/// The two segments of the demo over profile attributes, as a marketer would write them.
pub(crate) const DEMO_SEGMENTS: &str = r#"segments:
  - name: gold-us-recent
    description: Gold and platinum customers in the US who bought in the last 90 days
    rule:
      all:
        - { attribute: tier, op: in, values: [gold, platinum] }
        - { attribute: country, op: equals, value: us, case_insensitive: true }
        - { attribute: last_purchase_at, op: within_last, amount: 90, unit: days }
  - name: engaged-europe
    description: Newsletter subscribers in France, Germany or Ireland worth 1,000 or more
    rule:
      all:
        - { attribute: newsletter_opt_in, op: is_true }
        - { attribute: country, op: in, values: [FR, DE, IE] }
        - { attribute: lifetime_value, op: greater_or_equal, value: 1000 }
"#;

/// The demo's segment over what customers did: a count of their orders.
const DEMO_BEHAVIOUR_SEGMENT: &str = r#"  - name: repeat-outdoor-buyers
    description: Paid for outdoor gear at least twice in the last 180 days
    rule:
      has: orders
      at_least: 2
      where:
        all:
          - { attribute: category, op: equals, value: outdoor }
          - { attribute: status, op: equals, value: paid }
      window: { op: within_last, amount: 180, unit: days }
"#;

pub(crate) async fn run(args: DemoArgs) -> anyhow::Result<()> {
    let temporary = tempfile::tempdir()?;
    let folder: PathBuf = match &args.keep_in {
        Some(folder) => {
            std::fs::create_dir_all(folder)?;
            folder.clone()
        }
        None => temporary.path().to_path_buf(),
    };
    let mut out = std::io::stdout();

    let (profiles_path, orders_path) = generate_data(&folder, &args)?;

    let config = SandboxConfig {
        auto_approve: true,
        ..SandboxConfig::default()
    }
    .with_client(CLIENT_ID, Some(CLIENT_SECRET), &[REDIRECT_URI]);
    let sandbox = cc_sandbox::spawn(config, SocketAddr::from(([127, 0, 0, 1], 0))).await?;
    writeln!(
        out,
        "2. Started the Constant Contact sandbox at {} with Constant Contact's limits: 4 requests/s, 10,000 a day",
        sandbox.base_url()
    )?;

    let api = ApiConfig::new(CLIENT_ID)
        .with_endpoints(Endpoints::under(&Url::parse(&sandbox.base_url())?))
        .with_client_secret(SecretString::from(CLIENT_SECRET))
        .with_redirect_uri(Url::parse(REDIRECT_URI)?);
    let tokens = authorize_with_sandbox(&api)
        .await
        .context("authenticating with the sandbox")?;
    let client = ConstantContact::connect(&api, tokens, Arc::new(MemoryTokenStore::default()))?;
    writeln!(
        out,
        "3. Authenticated with OAuth (authorization code, state and PKCE)"
    )?;

    let list_name = format!("segsync demo {}", Utc::now().format("%Y-%m-%d %H:%M:%S"));
    let list = client
        .create_list(&NewContactList {
            name: list_name.clone(),
            favorite: false,
            description: Some("Created by segsync demo".into()),
        })
        .await?;
    // Constant Contact imports set only the custom fields the account has.
    let tier = match client
        .custom_fields()
        .await?
        .into_iter()
        .find(|field| field.name == "tier")
    {
        Some(field) => field,
        None => {
            client
                .create_custom_field(&NewCustomField::text("tier"))
                .await?
        }
    };
    writeln!(
        out,
        "4. Created the list {list_name:?} ({}); the account has the custom field {:?}",
        list.list_id, tier.label
    )?;

    let segments_path = folder.join("segments.yaml");
    let written_segments = segments_file();
    std::fs::write(&segments_path, &written_segments)?;
    let segments = parse_segments(&written_segments, SegmentFormat::Yaml, "segments.yaml")
        .map_err(|errors| {
            anyhow::anyhow!(
                "{}",
                errors
                    .iter()
                    .map(ToString::to_string)
                    .collect::<Vec<_>>()
                    .join("\n")
            )
        })?;
    writeln!(out, "5. Three segments ({}):\n", segments_path.display())?;
    for line in written_segments.lines() {
        writeln!(out, "     {line}")?;
    }

    let plan = ExportPlan::new(
        segments,
        demo_mapping(),
        list.list_id,
        RunClock::new(Utc::now(), chrono_tz::UTC),
    );
    let orders_table = RelatedTable {
        name: "orders".into(),
        source: ProfileSource::new(orders_path.to_string_lossy()),
        key: "customer_id".into(),
        profile_key: "profile_id".into(),
        dated_by: Some("ordered_at".into()),
    };
    let profiles = Profiles::open(ProfileSource::new(profiles_path.to_string_lossy()))
        .await?
        .relate(&[orders_table])
        .await?;
    writeln!(
        out,
        "6. Exporting the three segments into the list (email, first and last name, country, company, birthday, cf:tier)"
    )?;
    let state = StateFile::temporary(list.list_id).await?;
    let prepared = state
        .prepared(client, profiles, plan, VerifySchedule::Off)
        .await?;
    let context = local_run::context(&state, CLIENT_ID, None);
    let run = carry_out_here(&state, &context, &prepared, RunRequest::default()).await;
    state.close().await;
    let run = run?;
    let Some(report) = run.report else {
        anyhow::bail!(
            "the export failed before it sent anything: {}",
            run.reason.unwrap_or_default()
        );
    };
    writeln!(out, "\n{report}\n")?;

    let client = &prepared.client;
    let held = client.get_list(list.list_id).await?;
    let sample = client
        .contacts(&ContactQuery::in_list(list.list_id).with_limit(5))
        .await?;
    writeln!(
        out,
        "7. The list {list_name:?} now holds {} contacts in the sandbox, for example:",
        held.membership_count.unwrap_or_default()
    )?;
    for contact in sample.items {
        let email = contact.email_address.map(|e| e.address).unwrap_or_default();
        let name = [contact.first_name, contact.last_name]
            .into_iter()
            .flatten()
            .collect::<Vec<_>>()
            .join(" ");
        writeln!(out, "     {email:<45} {name}")?;
    }
    writeln!(
        out,
        "\nEvery profile is accounted for: {}",
        if report.totals_add_up() { "yes" } else { "NO" }
    )?;
    if let RunOutcome::Failed { reason } = &report.outcome {
        anyhow::bail!("the export failed: {reason}");
    }
    Ok(())
}

/// Writes the sample profiles and their orders into `folder`, saying so: their paths.
pub(super) fn generate_data(folder: &Path, args: &DemoArgs) -> anyhow::Result<(PathBuf, PathBuf)> {
    let mut out = std::io::stdout();
    let profiles_path = folder.join(PROFILES_FILE);
    writeln!(
        out,
        "1. Generating {} sample profiles into {}",
        args.profiles,
        profiles_path.display()
    )?;
    let bar = counter(args.profiles as u64, "generating profiles");
    write_profiles(&profiles_path, args.profiles, args.seed, |written| {
        bar.set_position(written as u64)
    })?;
    bar.finish_and_clear();
    let orders_path = folder.join(ORDERS_FILE);
    let bar = counter((args.profiles * 5) as u64, "generating orders");
    let orders = write_orders(&orders_path, args.profiles, 5, args.seed, |written| {
        bar.set_position(written as u64)
    })?;
    bar.finish_and_clear();
    writeln!(
        out,
        "   and {orders} orders of theirs into {} (the related table \"orders\")",
        orders_path.display()
    )?;

    Ok((profiles_path, orders_path))
}

/// What the demo's exports send: email, first and last name, country, company, birthday and
/// the tier, a custom field.
pub(super) fn demo_mapping() -> FieldMapping {
    FieldMapping::email_only("email")
        .with(ContactField::FirstName, "first_name")
        .with(ContactField::LastName, "last_name")
        .with(ContactField::Country, "country")
        .with(ContactField::CompanyName, "company")
        .with(ContactField::Birthday, "birth_date")
        .with(ContactField::Custom("tier".into()), "tier")
}

/// The three demo segments as one segment file.
pub(super) fn segments_file() -> String {
    format!("{DEMO_SEGMENTS}{DEMO_BEHAVIOUR_SEGMENT}")
}
