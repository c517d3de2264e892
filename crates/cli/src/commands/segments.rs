//! `segsync segments check|preview`.

use std::io::Write;
use std::path::PathBuf;

use anyhow::{Context, bail};
use chrono::Utc;
use datafusion::arrow::util::pretty::pretty_format_batches;
use segsync_domain::segment::{
    RunClock, SegmentDefinition, SegmentFormat, parse_segments, validate,
};
use segsync_engine::Profiles;

use crate::cli::{PreviewArgs, SegmentArgs};

/// Reads every definition of every file; problems are reported all together.
pub(crate) fn load_segments(files: &[PathBuf]) -> anyhow::Result<Vec<SegmentDefinition>> {
    let mut segments = Vec::new();
    let mut problems = Vec::new();
    for file in files {
        let text =
            std::fs::read_to_string(file).with_context(|| format!("reading {}", file.display()))?;
        let name = file.display().to_string();
        match parse_segments(&text, SegmentFormat::from_path(&name), &name) {
            Ok(mut parsed) => segments.append(&mut parsed),
            Err(errors) => {
                problems.extend(errors.into_iter().map(|error| format!("{name}: {error}")))
            }
        }
    }
    if !problems.is_empty() {
        bail!("{}", problems.join("\n"));
    }
    Ok(segments)
}

pub(crate) async fn check(args: SegmentArgs) -> anyhow::Result<()> {
    let segments = load_segments(&args.segment_files)?;
    let source = args.profiles.source()?;
    let shown = source.display_location();
    let profiles = Profiles::open_with(source, &args.engine())
        .await?
        .relate(&args.related_tables()?)
        .await?;
    let schema = profiles.schema();
    let mut problems = Vec::new();
    for segment in &segments {
        if let Err(errors) = validate(segment, &schema, &segments) {
            problems.extend(errors.iter().map(ToString::to_string));
        }
    }
    let mut out = std::io::stdout().lock();
    if problems.is_empty() {
        writeln!(
            out,
            "{} segments are valid against {}.",
            segments.len(),
            shown
        )?;
        return Ok(());
    }
    for problem in &problems {
        writeln!(out, "{problem}")?;
    }
    bail!("{} problems in the segment definitions", problems.len())
}

pub(crate) async fn preview(args: PreviewArgs) -> anyhow::Result<()> {
    let time_zone: chrono_tz::Tz = args
        .time_zone
        .parse()
        .map_err(|_| anyhow::anyhow!("unknown time zone {:?}", args.time_zone))?;
    let clock = RunClock::new(args.as_of.unwrap_or_else(Utc::now), time_zone);
    let segments = load_segments(&args.segments.segment_files)?;
    let source = args.segments.profiles.source()?;
    let shown = source.display_location();
    let profiles = Profiles::open_with(source, &args.segments.engine())
        .await?
        .relate(&args.segments.related_tables()?)
        .await?;
    let total = profiles.count_all().await?;
    let mut out = std::io::stdout().lock();
    writeln!(out, "{total} profiles in {shown}")?;
    let memberships = segments
        .iter()
        .map(|segment| profiles.segment_expr(segment, &segments, &clock))
        .collect::<Result<Vec<_>, _>>()?;
    // Every segment counted in one pass over the data; a query the engine could not carry
    // out names the segments it counted.
    let counts = profiles.count_each(&memberships).await.map_err(|error| {
        let names: Vec<String> = segments
            .iter()
            .map(|segment| format!("{:?}", segment.name))
            .collect();
        anyhow::anyhow!("counting the segments {}: {error}", names.join(", "))
    })?;
    for ((segment, membership), count) in segments.iter().zip(&memberships).zip(counts) {
        writeln!(out, "\n{} — {count} members", segment.name)?;
        if let Some(description) = &segment.description {
            writeln!(out, "  {description}")?;
        }
        if args.rows > 0 && count > 0 {
            let sample = profiles.preview(membership.clone(), args.rows).await?;
            writeln!(out, "{}", pretty_format_batches(&sample)?)?;
        }
    }
    if args.explain_analyze {
        for (counted, plan) in profiles.explain_counts(&memberships).await? {
            let names: Vec<&str> = counted.iter().map(|&i| segments[i].name.as_str()).collect();
            writeln!(
                out,
                "\nthe count of {}, with metrics:\n{plan}",
                names.join(", ")
            )?;
        }
    }
    Ok(())
}
