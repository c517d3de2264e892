//! `segsync bench --only growth`: how time and memory grow with the data. The ordinary and the
//! behaviour segments of (g) and (f) are counted over 1, 10 and 30 million profiles (orders
//! five times as many) as whole processes side by side with DuckDB's command-line tool, and
//! the medians are printed as a table and drawn as an SVG chart.

use std::io::Write;
use std::path::{Path, PathBuf};

use plotters::prelude::*;

use super::bench_duckdb::{
    BEHAVIOUR_SEGMENTS, BEHAVIOUR_SQL, DataSet, Medians, ORDINARY_SEGMENTS, ORDINARY_SQL,
    side_by_side,
};
use crate::cli::BenchArgs;

/// Rounds of each whole process at each size, alternating: the largest size's behaviour
/// counts take most of a minute each.
const ROUNDS: usize = 3;

/// What was measured at one size.
struct Size {
    profiles: usize,
    ordinary: (Medians, Option<Medians>),
    behaviour: (Medians, Option<Medians>),
}

pub(super) async fn growth_bench(folder: &Path, args: &BenchArgs) -> anyhow::Result<()> {
    let mut out = std::io::stdout();
    let ordinary_segments = folder.join("ordinary-segments.yaml");
    std::fs::write(&ordinary_segments, ORDINARY_SEGMENTS)?;
    let behaviour_segments = folder.join("behaviour-segments.yaml");
    std::fs::write(&behaviour_segments, BEHAVIOUR_SEGMENTS)?;
    let mut sizes = Vec::new();
    for &profiles in &args.growth_profiles {
        let data = DataSet::uniform(folder, profiles, true)?;
        writeln!(out, "(m) growth: {}", data.description)?;
        let related = data.related_flag().expect("growth data has orders");
        writeln!(out, "  three ordinary segments")?;
        let ordinary = side_by_side(args, &data, &ordinary_segments, &[], ORDINARY_SQL, ROUNDS)?;
        writeln!(out, "  three behaviour segments")?;
        let behaviour = side_by_side(
            args,
            &data,
            &behaviour_segments,
            &["--related", &related],
            BEHAVIOUR_SQL,
            ROUNDS,
        )?;
        sizes.push(Size {
            profiles,
            ordinary,
            behaviour,
        });
    }
    write!(out, "{}", table(&sizes))?;
    let chart = folder.join("growth.svg");
    draw_chart(&sizes, &chart)?;
    writeln!(out, "  chart: {}", chart.display())?;
    Ok(())
}

/// The medians as a Markdown table, one row per size.
fn table(sizes: &[Size]) -> String {
    let cell = |medians: Option<Medians>| match medians {
        Some(m) => format!("{:.2} s, {:.0} MB", m.wall, m.peak_mb),
        None => "–".to_owned(),
    };
    let mut table = String::from(
        "| profiles | orders | ordinary: segsync | ordinary: DuckDB | behaviour: segsync | \
         behaviour: DuckDB |\n|---:|---:|---:|---:|---:|---:|\n",
    );
    for size in sizes {
        table += &format!(
            "| {} | {} | {} | {} | {} | {} |\n",
            thousands(size.profiles),
            thousands(size.profiles * 5),
            cell(Some(size.ordinary.0)),
            cell(size.ordinary.1),
            cell(Some(size.behaviour.0)),
            cell(size.behaviour.1),
        );
    }
    table
}

fn thousands(number: usize) -> String {
    let digits = number.to_string();
    let mut grouped = String::new();
    for (index, digit) in digits.chars().enumerate() {
        if index > 0 && (digits.len() - index).is_multiple_of(3) {
            grouped.push(',');
        }
        grouped.push(digit);
    }
    grouped
}

/// One line of the chart: a side's medians at each size.
struct Line {
    label: &'static str,
    color: RGBColor,
    points: Vec<(f64, Medians)>,
}

fn lines(sizes: &[Size]) -> Vec<Line> {
    let millions = |size: &Size| size.profiles as f64 / 1e6;
    let line = |label, color, pick: fn(&Size) -> Option<Medians>| Line {
        label,
        color,
        points: sizes
            .iter()
            .filter_map(|size| pick(size).map(|m| (millions(size), m)))
            .collect(),
    };
    [
        line("ordinary, segsync", BLUE, |s| Some(s.ordinary.0)),
        line("ordinary, DuckDB", RGBColor(120, 170, 230), |s| {
            s.ordinary.1
        }),
        line("behaviour, segsync", RED, |s| Some(s.behaviour.0)),
        line("behaviour, DuckDB", RGBColor(240, 150, 120), |s| {
            s.behaviour.1
        }),
    ]
    .into_iter()
    .filter(|line| !line.points.is_empty())
    .collect()
}

/// What a panel of the chart plots of each side's medians.
type Measure = fn(&Medians) -> f64;

/// Draws time and peak memory against the profiles, side by side, into an SVG file.
fn draw_chart(sizes: &[Size], path: &PathBuf) -> anyhow::Result<()> {
    let lines = lines(sizes);
    let root = SVGBackend::new(path, (960, 400)).into_drawing_area();
    root.fill(&WHITE)?;
    let panels = root.split_evenly((1, 2));
    let largest = sizes.iter().map(|s| s.profiles).max().unwrap_or(1) as f64 / 1e6;
    let axes: [(&str, &str, Measure); 2] = [
        ("Wall time, whole process", "seconds", |m| m.wall),
        ("Peak memory, whole process", "MB", |m| m.peak_mb),
    ];
    for (panel, (caption, unit, value)) in panels.iter().zip(axes) {
        let highest = lines
            .iter()
            .flat_map(|line| line.points.iter().map(|(_, m)| value(m)))
            .fold(0.0, f64::max);
        let mut chart = ChartBuilder::on(panel)
            .caption(caption, ("sans-serif", 18))
            .margin(12)
            .x_label_area_size(40)
            .y_label_area_size(55)
            .build_cartesian_2d(0.0..largest * 1.05, 0.0..highest * 1.1)?;
        chart
            .configure_mesh()
            .x_desc("profiles, millions (orders × 5)")
            .y_desc(unit)
            .draw()?;
        for line in &lines {
            let color = line.color;
            let points: Vec<(f64, f64)> = line.points.iter().map(|(x, m)| (*x, value(m))).collect();
            chart
                .draw_series(LineSeries::new(points.clone(), color.stroke_width(2)))?
                .label(line.label)
                .legend(move |(x, y)| {
                    PathElement::new([(x, y), (x + 18, y)], color.stroke_width(2))
                });
            chart.draw_series(
                points
                    .into_iter()
                    .map(|point| Circle::new(point, 3, color.filled())),
            )?;
        }
        chart
            .configure_series_labels()
            .position(SeriesLabelPosition::UpperLeft)
            .background_style(WHITE.mix(0.8))
            .border_style(BLACK)
            .draw()?;
    }
    root.present()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn size(profiles: usize, wall: f64, duckdb: bool) -> Size {
        let medians = Medians {
            wall,
            cpu: wall,
            peak_mb: wall * 100.0,
        };
        Size {
            profiles,
            ordinary: (medians, duckdb.then_some(medians)),
            behaviour: (medians, duckdb.then_some(medians)),
        }
    }

    #[test]
    fn the_table_has_a_row_per_size_and_a_dash_where_duckdb_was_not_run() {
        let table = table(&[size(1_000_000, 0.5, true), size(10_000_000, 2.0, false)]);
        let rows: Vec<&str> = table.lines().collect();
        assert_eq!(rows.len(), 4);
        assert_eq!(
            rows[2],
            "| 1,000,000 | 5,000,000 | 0.50 s, 50 MB | 0.50 s, 50 MB | 0.50 s, 50 MB | 0.50 s, 50 MB |"
        );
        assert!(rows[3].starts_with("| 10,000,000 | 50,000,000 | 2.00 s, 200 MB | – |"));
    }

    #[test]
    fn the_chart_draws_each_measured_side_in_both_panels() {
        let folder = tempfile::tempdir().unwrap();
        let path = folder.path().join("growth.svg");
        draw_chart(
            &[size(1_000_000, 0.5, true), size(30_000_000, 9.0, true)],
            &path,
        )
        .unwrap();
        let svg = std::fs::read_to_string(&path).unwrap();
        assert!(svg.starts_with("<svg"), "{}", &svg[..80.min(svg.len())]);
        assert_eq!(
            svg.matches("behaviour, DuckDB").count(),
            2,
            "a legend entry per panel"
        );
        assert!(svg.contains("Peak memory"));
        assert_eq!(
            svg.matches(r#"stroke-width="2""#).count(),
            16,
            "each of the four sides is a line and a legend sample in both panels"
        );
    }
}
