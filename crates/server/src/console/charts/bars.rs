//! Stacked bars: one bar per category (a run, a day), each series stacked on the one before.

use super::axis::ValueAxis;
use super::{Chart, Table, TableRow, svg};

const WIDTH: f64 = 720.0;
const HEIGHT: f64 = 240.0;
const LEFT: f64 = 72.0;
const RIGHT: f64 = 12.0;
const TOP: f64 = 12.0;
const BOTTOM: f64 = 40.0;
/// The most category labels under the bars; between them, some are left out.
const MOST_LABELS: usize = 10;

/// One stacked part of every bar.
pub(crate) struct Series {
    pub(crate) name: String,
    /// The style class that colours it.
    pub(crate) class: &'static str,
    /// One value per category.
    pub(crate) values: Vec<u64>,
}

pub(crate) struct StackedBars {
    pub(crate) id: String,
    pub(crate) title: String,
    pub(crate) summary: String,
    /// The label under each bar, in order.
    pub(crate) categories: Vec<String>,
    /// The page each category stands for, for the table.
    pub(crate) links: Vec<Option<String>>,
    pub(crate) series: Vec<Series>,
    /// How a value reads on the axis and in tooltips.
    pub(crate) format: fn(u64) -> String,
}

impl StackedBars {
    pub(crate) fn draw(self) -> Chart {
        let count = self.categories.len();
        let total = |index: usize| -> u64 {
            self.series
                .iter()
                .map(|series| series.values.get(index).copied().unwrap_or(0))
                .sum()
        };
        let axis = ValueAxis::up_to((0..count).map(total).max().unwrap_or(0));
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
        let bar = (band * 0.7).min(48.0);
        let label_every = count.div_ceil(MOST_LABELS).max(1);
        for (index, category) in self.categories.iter().enumerate() {
            let x = LEFT + band * index as f64 + (band - bar) / 2.0;
            let mut stacked = 0;
            for series in &self.series {
                let value = series.values.get(index).copied().unwrap_or(0);
                if value == 0 {
                    continue;
                }
                let bottom = baseline - axis.scale(stacked, plot_height);
                stacked += value;
                let top = baseline - axis.scale(stacked, plot_height);
                let tip = format!("{category}: {} {}", (self.format)(value), series.name);
                svg::rect(&mut out, series.class, x, top, bar, bottom - top, &tip);
            }
            if index % label_every == 0 {
                svg::text(
                    &mut out,
                    "axis",
                    x + bar / 2.0,
                    baseline + 16.0,
                    "middle",
                    category,
                );
            }
        }
        out.push_str("</svg>");
        let mut head = vec![String::new()];
        head.extend(self.series.iter().map(|series| series.name.clone()));
        let rows = self
            .categories
            .iter()
            .enumerate()
            .map(|(index, category)| TableRow {
                label: category.clone(),
                link: self.links.get(index).cloned().flatten(),
                cells: self
                    .series
                    .iter()
                    .map(|series| (self.format)(series.values.get(index).copied().unwrap_or(0)))
                    .collect(),
            })
            .collect();
        Chart {
            id: self.id,
            title: self.title,
            summary: self.summary,
            legend: self
                .series
                .iter()
                .map(|series| (series.name.clone(), series.class))
                .collect(),
            svg: out,
            table: Table { head, rows },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{Series, StackedBars};
    use crate::console::charts::thousands;

    /// Each rectangle's class and height, in order.
    fn rects(svg: &str) -> Vec<(String, f64)> {
        svg.split("<rect ")
            .skip(1)
            .map(|rect| {
                let attribute = |name: &str| {
                    let start = rect.find(&format!("{name}=\"")).unwrap() + name.len() + 2;
                    rect[start..].split('"').next().unwrap().to_owned()
                };
                (attribute("class"), attribute("height").parse().unwrap())
            })
            .collect()
    }

    #[test]
    fn parts_are_stacked_in_proportion_and_text_is_escaped() {
        let chart = StackedBars {
            id: "test".to_owned(),
            title: "Sent & skipped".to_owned(),
            summary: String::new(),
            categories: vec!["<first>".to_owned(), "second".to_owned()],
            links: vec![Some("/runs/1".to_owned()), None],
            series: vec![
                Series {
                    name: "sent".to_owned(),
                    class: "added",
                    values: vec![1, 3],
                },
                Series {
                    name: "skipped".to_owned(),
                    class: "skipped",
                    values: vec![1, 0],
                },
            ],
            format: thousands,
        }
        .draw();
        let drawn = rects(&chart.svg);
        assert_eq!(drawn.len(), 3, "no rectangle for a zero: {drawn:?}");
        let unit = drawn[0].1;
        assert!(unit > 0.0);
        assert_eq!(drawn[1].0, "skipped");
        assert!((drawn[1].1 - unit).abs() < 0.2, "{drawn:?}");
        assert_eq!(drawn[2].0, "added");
        assert!((drawn[2].1 - 3.0 * unit).abs() < 0.2, "{drawn:?}");
        assert!(
            chart
                .svg
                .contains("<title id=\"test-title\">Sent &amp; skipped</title>")
        );
        assert!(chart.svg.contains("&lt;first&gt;") && !chart.svg.contains("<first>"));
        assert_eq!(chart.table.head, ["", "sent", "skipped"]);
        assert_eq!(chart.table.rows[0].cells, ["1", "1"]);
        assert_eq!(chart.table.rows[0].link.as_deref(), Some("/runs/1"));
    }
}
