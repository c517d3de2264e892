//! A value axis: a top that is a round number, and the gridlines up to it.

use super::svg;

/// The value axis of a chart whose largest value is `largest`: four steps of a round size
/// (1, 2 or 5 times a power of ten) from zero to a top at or above it.
pub(super) struct ValueAxis {
    pub(super) step: u64,
    pub(super) top: u64,
}

impl ValueAxis {
    pub(super) fn up_to(largest: u64) -> Self {
        let rough = largest.div_ceil(4).max(1);
        let mut power = 1u64;
        while power.saturating_mul(10) <= rough {
            power *= 10;
        }
        let step = [1, 2, 5, 10]
            .into_iter()
            .map(|factor| factor * power)
            .find(|step| *step >= rough)
            .unwrap_or(10 * power);
        Self {
            step,
            top: largest.div_ceil(step).max(1) * step,
        }
    }

    /// The height above the baseline of `value`, for a plot `height` tall.
    pub(super) fn scale(&self, value: u64, height: f64) -> f64 {
        value as f64 / self.top as f64 * height
    }

    /// Gridlines with their labels, from the baseline at `bottom` up `height`, between `left`
    /// and `right`.
    pub(super) fn draw(
        &self,
        out: &mut String,
        (left, right): (f64, f64),
        (bottom, height): (f64, f64),
        label: fn(u64) -> String,
    ) {
        let mut value = 0;
        while value <= self.top {
            let y = bottom - self.scale(value, height);
            svg::line(out, "grid", (left, y), (right, y));
            svg::text(out, "axis", left - 6.0, y + 4.0, "end", &label(value));
            value += self.step;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::ValueAxis;

    #[test]
    fn the_top_is_a_round_number_at_or_above_the_largest_value() {
        for (largest, step, top) in [
            (0, 1, 1),
            (3, 1, 3),
            (7, 2, 8),
            (10, 5, 10),
            (37, 10, 40),
            (1234, 500, 1500),
            (100_000, 50_000, 100_000),
        ] {
            let axis = ValueAxis::up_to(largest);
            assert_eq!((axis.step, axis.top), (step, top), "{largest}");
            assert!(axis.top >= largest);
        }
    }
}
