//! A line over categories, with a point at each known value; unknown values break the line.

use std::fmt::Write;

use super::axis::ValueAxis;
use super::{Chart, Table, TableRow, svg};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 200.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;
const MOST_LABELS: usize = 10;

pub(crate) struct Line {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) summary: String,
    /// What the values are, for the legend and the table.
    pub(crate) name: String,
    pub(crate) class: &'static str,
    pub(crate) categories: Vec<String>,
    pub(crate) links: Vec<Option<String>>,
    pub(crate) values: Vec<Option<u64>>,
    pub(crate) format: fn(u64) -> String,
}

impl Line {
    pub(crate) fn draw(self) -> Chart {
        let count = self.categories.len();
        let axis = ValueAxis::up_to(self.values.iter().flatten().copied().max().unwrap_or(0));
        let (plot_width, plot_height) = (WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM);
        let baseline = HEIGHT - BOTTOM;
        let mut out = String::new();
        svg::open(&mut out, &self.id, WIDTH, HEIGHT, &self.title);
        axis.draw(
            &mut out,
            (LEFT, WIDTH - RIGHT),
            (baseline, plot_height),
            self.format,
        );
        let band = plot_width / count.max(1) as f64;
        let x_of = |index: usize| LEFT + band * (index as f64 + 0.5);
        let label_every = count.div_ceil(MOST_LABELS).max(1);
        // Each unbroken run of known values is one polyline.
        let mut path = String::new();
        for (index, value) in self.values.iter().enumerate() {
            match value {
                Some(value) => {
                    let y = baseline - axis.scale(*value, plot_height);
                    let _ = write!(path, "{:.1},{y:.1} ", x_of(index));
                }
                None => flush(&mut out, self.class, &mut path),
            }
        }
        flush(&mut out, self.class, &mut path);
        for (index, category) in self.categories.iter().enumerate() {
            if let Some(Some(value)) = self.values.get(index) {
                let y = baseline - axis.scale(*value, plot_height);
                let _ = write!(
                    out,
                    r#"<circle class="{} point" cx="{:.1}" cy="{y:.1}" r="3.5"><title>{}</title></circle>"#,
                    self.class,
                    x_of(index),
                    svg::escape(&format!(
                        "{category}: {} {}",
                        (self.format)(*value),
                        self.name
                    ))
                );
            }
            if index % label_every == 0 {
                svg::text(
                    &mut out,
                    "axis",
                    x_of(index),
                    baseline + 16.0,
                    "middle",
                    category,
                );
            }
        }
        out.push_str("</svg>");
        let rows = self
            .categories
            .iter()
            .enumerate()
            .map(|(index, category)| TableRow {
                label: category.clone(),
                link: self.links.get(index).cloned().flatten(),
                cells: vec![
                    self.values
                        .get(index)
                        .copied()
                        .flatten()
                        .map_or_else(|| "not known".to_owned(), self.format),
                ],
            })
            .collect();
        Chart {
            id: self.id,
            title: self.title,
            summary: self.summary,
            legend: vec![(self.name.clone(), self.class)],
            svg: out,
            table: Table {
                head: vec![String::new(), self.name],
                rows,
            },
        }
    }
}

/// Draws the points gathered so far as one polyline, and starts again.
fn flush(out: &mut String, class: &str, path: &mut String) {
    if path.split_whitespace().count() > 1 {
        let _ = write!(
            out,
            r#"<polyline class="{class} trace" points="{}"/>"#,
            path.trim_end()
        );
    }
    path.clear();
}
