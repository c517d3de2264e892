//! Charts drawn on the server as SVG, so that they show without JavaScript: stacked bars, a
//! line and a timeline. Each comes with a title, a summary in words and its figures as a table,
//! the text alternatives for whoever cannot see it. Colours come from the console's style
//! sheet, through classes, so the charts follow the light or dark colour scheme.

mod axis;
mod bars;
mod line;
mod svg;
mod timeline;

pub(crate) mod days;
pub(crate) mod history;
pub(crate) mod phases;

pub(crate) use bars::{Series, StackedBars};
pub(crate) use line::Line;
pub(crate) use timeline::{Span, Timeline};

/// A drawn chart with its text alternatives.
pub(crate) struct Chart {
    /// Unique on the page: the SVG's title and description are named after it.
    pub(crate) id: String,
    pub(crate) title: String,
    /// What the chart shows, in words: the SVG's description, read by screen readers.
    pub(crate) summary: String,
    /// Each series' name and style class, for the legend.
    pub(crate) legend: Vec<(String, &'static str)>,
    pub(crate) svg: String,
    /// The chart's figures, for reading rather than looking.
    pub(crate) table: Table,
}

/// Figures as rows: a label (linked when it names a page) and one cell per column.
#[derive(Default)]
pub(crate) struct Table {
    pub(crate) head: Vec<String>,
    pub(crate) rows: Vec<TableRow>,
}

pub(crate) struct TableRow {
    pub(crate) label: String,
    pub(crate) link: Option<String>,
    pub(crate) cells: Vec<String>,
}

/// `1234567` as `1,234,567`.
pub(crate) fn thousands(value: u64) -> String {
    let digits = value.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(digit);
    }
    out
}

/// Milliseconds in the unit that reads best: `850 ms`, `12.4 s`, `3 min 20 s`, `1 h 5 min`.
pub(crate) fn duration(millis: u64) -> String {
    match millis {
        0..1_000 => format!("{millis} ms"),
        1_000..60_000 => format!("{:.1} s", millis as f64 / 1000.0),
        60_000..3_600_000 => format!("{} min {} s", millis / 60_000, millis % 60_000 / 1000),
        _ => format!(
            "{} h {} min",
            millis / 3_600_000,
            millis % 3_600_000 / 60_000
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_and_durations_read_well() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(1000), "1,000");
        assert_eq!(thousands(1_234_567), "1,234,567");
        assert_eq!(duration(850), "850 ms");
        assert_eq!(duration(12_400), "12.4 s");
        assert_eq!(duration(200_000), "3 min 20 s");
        assert_eq!(duration(3_900_000), "1 h 5 min");
    }
}
