//! Ordinary segments counted at once: each in a scan of its own, the scans sharing the cores'
//! partitions between them rather than each taking them all, and counting what the
//! independent evaluator counts.

use segsync_domain::segment::{SegmentFormat, parse_segments};
use segsync_engine::{ProfileSource, Profiles};

use crate::differential::{clock, evaluate};
use crate::fixtures;

const SEGMENTS: &str = "segments:
  - name: ada-ignoring-case
    rule: { attribute: name, op: equals, value: ADA, case_insensitive: true }
  - name: older
    rule: { attribute: age, op: greater_or_equal, value: 60 }
  - name: active-us
    rule:
      all:
        - { attribute: active, op: is_true }
        - { attribute: country, op: in, values: [US, us] }
";

/// The number of file groups of each profile scan in `plan`.
fn scan_partitions(plan: &str) -> Vec<usize> {
    plan.lines()
        .filter(|line| line.contains("DataSourceExec") && line.contains("file_groups={"))
        .map(|line| {
            let groups = &line[line.find("file_groups={").unwrap() + "file_groups={".len()..];
            groups[..groups.find(' ').unwrap()].parse().unwrap()
        })
        .collect()
}

#[tokio::test]
async fn ordinary_counts_at_once_share_the_cores_and_count_the_same() {
    let folder = tempfile::tempdir().unwrap();
    // Four files, so that a scan can be split in as many partitions as the cores allow.
    let rows = fixtures::rows(4_000, 23);
    for (i, chunk) in rows.chunks(1_000).enumerate() {
        fixtures::write_parquet(&folder.path().join(format!("part-{i}.parquet")), chunk);
    }
    let profiles = Profiles::open(ProfileSource::new(folder.path().to_string_lossy()))
        .await
        .unwrap();
    let segments = parse_segments(SEGMENTS, SegmentFormat::Yaml, "t.yaml").unwrap();
    let memberships: Vec<_> = segments
        .iter()
        .map(|segment| profiles.segment_expr(segment, &segments, &clock()).unwrap())
        .collect();
    let cores = std::thread::available_parallelism().unwrap().get();

    let together = profiles.explain_counts(&memberships).await.unwrap();
    assert_eq!(together.len(), 3, "a scan per ordinary segment");
    for (_, plan) in &together {
        assert_eq!(
            scan_partitions(plan),
            vec![4.min(cores.div_ceil(3))],
            "three scans at once share {cores} cores:\n{plan}"
        );
    }
    let alone = profiles.explain_counts(&memberships[..1]).await.unwrap();
    assert_eq!(
        scan_partitions(&alone[0].1),
        vec![4.min(cores)],
        "a scan alone takes every core"
    );

    let expected: Vec<u64> = segments
        .iter()
        .map(|segment| {
            rows.iter()
                .filter(|row| evaluate(&segment.rule, row, &segments))
                .count() as u64
        })
        .collect();
    assert!(expected.iter().all(|&count| count > 0), "{expected:?}");
    assert_eq!(profiles.count_each(&memberships).await.unwrap(), expected);
}
