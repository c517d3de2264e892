//! A timeline: one row per span (a run's phase), placed where it began and as long as it took.

use super::axis::ValueAxis;
use super::{Chart, Table, TableRow, duration, svg};

const WIDTH: f64 = 720.0;
const LABELS: f64 = 200.0;
const RIGHT: f64 = 90.0;
const ROW: f64 = 28.0;
const AXIS: f64 = 28.0;

pub(crate) struct Span {
    pub(crate) name: String,
    /// When it began, from the start, and how long it took, in milliseconds.
    pub(crate) start_ms: u64,
    pub(crate) length_ms: u64,
}

pub(crate) struct Timeline {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) summary: String,
    pub(crate) spans: Vec<Span>,
}

impl Timeline {
    pub(crate) fn draw(self) -> Chart {
        let axis = ValueAxis::up_to(
            self.spans
                .iter()
                .map(|span| span.start_ms + span.length_ms)
                .max()
                .unwrap_or(0),
        );
        let end = axis.top;
        let height = ROW * self.spans.len() as f64 + AXIS;
        let plot = WIDTH - LABELS - RIGHT;
        let x_of = |ms: u64| LABELS + ms as f64 / end as f64 * plot;
        let mut out = String::new();
        svg::open(&mut out, &self.id, WIDTH, height, &self.title);
        let axis_y = ROW * self.spans.len() as f64;
        let mut ms = 0;
        while ms <= end {
            let x = x_of(ms);
            svg::line(&mut out, "grid", (x, 0.0), (x, axis_y));
            svg::text(&mut out, "axis", x, axis_y + 16.0, "middle", &duration(ms));
            ms += axis.step;
        }
        for (index, span) in self.spans.iter().enumerate() {
            let y = ROW * index as f64;
            svg::text(&mut out, "label", LABELS - 8.0, y + 18.0, "end", &span.name);
            let (x, width) = (
                x_of(span.start_ms),
                (x_of(span.start_ms + span.length_ms) - x_of(span.start_ms)).max(2.0),
            );
            let took = duration(span.length_ms);
            svg::rect(
                &mut out,
                "phase",
                x,
                y + 5.0,
                width,
                ROW - 10.0,
                &format!("{}: {took}", span.name),
            );
            svg::text(&mut out, "axis", x + width + 6.0, y + 18.0, "start", &took);
        }
        out.push_str("</svg>");
        let rows = self
            .spans
            .iter()
            .map(|span| TableRow {
                label: span.name.clone(),
                link: None,
                cells: vec![duration(span.start_ms), duration(span.length_ms)],
            })
            .collect();
        Chart {
            id: self.id,
            title: self.title,
            summary: self.summary,
            legend: Vec::new(),
            svg: out,
            table: Table {
                head: vec![
                    "Phase".to_owned(),
                    "Began after".to_owned(),
                    "Took".to_owned(),
                ],
                rows,
            },
        }
    }
}
