//! The frame of an x–y chart: plot area, grid, ticks whose labels never overlap, axis titles.

use super::{Anchor, Axis, Svg, text_width};

/// Space around the plot area, in px.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Margins {
    pub left: f64,
    pub right: f64,
    pub top: f64,
    pub bottom: f64,
}

impl Default for Margins {
    fn default() -> Self {
        Self {
            left: 0.0,
            right: 16.0,
            top: 12.0,
            bottom: 44.0,
        }
    }
}

/// Formats a tick value into its label.
pub type TickFormat = fn(f64) -> String;

/// Axes and plot area of one chart. The left margin grows to fit the y tick labels.
#[derive(Debug, Clone)]
pub struct Frame {
    pub x: Axis,
    pub y: Axis,
    pub width: f64,
    pub height: f64,
    pub margins: Margins,
    x_ticks: Vec<(f64, String)>,
    y_ticks: Vec<(f64, String)>,
    x_title: String,
    y_title: String,
    /// Categorical rows (band charts): the label drawn left of each row, and its full text.
    rows: Vec<(String, String)>,
}

/// Height of one row of a band chart, in px.
pub const ROW_HEIGHT: f64 = 20.0;
/// Longest row label drawn, in characters (the full label is its hover title).
const ROW_LABEL_CHARS: usize = 44;

/// Gap between neighbouring x tick labels and the least vertical spacing of y labels, in px.
const X_LABEL_GAP: f64 = 8.0;
const Y_LABEL_SPACING: f64 = 16.0;

impl Frame {
    /// Lays out a `width` × `height` chart. `margins.left` is a minimum: it is widened to fit the
    /// y labels and the y title.
    #[allow(clippy::too_many_arguments)]
    pub fn new(
        width: f64,
        height: f64,
        margins: Margins,
        x: Axis,
        x_title: &str,
        x_fmt: TickFormat,
        y: Axis,
        y_title: &str,
        y_fmt: TickFormat,
    ) -> Self {
        let top = margins.top;
        let bottom = height - margins.bottom;
        let y = y.with_range(bottom, top);
        let y_ticks = pick_ticks(&y, y_fmt, |_, _| Y_LABEL_SPACING);
        let label_w = y_ticks
            .iter()
            .map(|(_, l)| text_width(l))
            .fold(0.0, f64::max);
        let left = margins.left.max(label_w + 30.0);
        let x = x.with_range(left, width - margins.right);
        let x_ticks = pick_ticks(&x, x_fmt, |a, b| {
            (text_width(a) + text_width(b)) / 2.0 + X_LABEL_GAP
        });
        Self {
            x,
            y,
            width,
            height,
            margins: Margins { left, ..margins },
            x_ticks,
            y_ticks,
            x_title: x_title.to_string(),
            y_title: y_title.to_string(),
            rows: Vec::new(),
        }
    }

    /// A chart with one horizontal band per row label (box plots, interval plots, bars): the x
    /// axis is `x`, row `i` is centred on `self.row_y(i)`, the height follows the row count.
    pub fn bands(width: f64, x: Axis, x_title: &str, x_fmt: TickFormat, rows: &[String]) -> Self {
        let margins = Margins::default();
        let shown: Vec<(String, String)> = rows
            .iter()
            .map(|r| {
                (
                    crate::format::truncate_middle(r, ROW_LABEL_CHARS),
                    r.clone(),
                )
            })
            .collect();
        let label_w = shown.iter().map(|(s, _)| text_width(s)).fold(0.0, f64::max);
        let left = label_w + 16.0;
        let height = margins.top + ROW_HEIGHT * rows.len().max(1) as f64 + margins.bottom;
        let y = Axis::linear_exact(0.0, rows.len().max(1) as f64)
            .with_range(margins.top, height - margins.bottom);
        let x = x.with_range(left, width - margins.right);
        let x_ticks = pick_ticks(&x, x_fmt, |a, b| {
            (text_width(a) + text_width(b)) / 2.0 + X_LABEL_GAP
        });
        Self {
            x,
            y,
            width,
            height,
            margins: Margins { left, ..margins },
            x_ticks,
            y_ticks: Vec::new(),
            x_title: x_title.to_string(),
            y_title: String::new(),
            rows: shown,
        }
    }

    /// The vertical centre of band row `i`.
    pub fn row_y(&self, i: usize) -> f64 {
        self.y.map(i as f64 + 0.5)
    }

    pub fn left(&self) -> f64 {
        self.margins.left
    }
    pub fn right(&self) -> f64 {
        self.width - self.margins.right
    }
    pub fn top(&self) -> f64 {
        self.margins.top
    }
    pub fn bottom(&self) -> f64 {
        self.height - self.margins.bottom
    }

    /// The x ticks chosen, with their labels.
    #[cfg(test)]
    pub fn x_ticks(&self) -> &[(f64, String)] {
        &self.x_ticks
    }

    /// Draws grid, ticks, labels and titles. Call before the data so the data lies on top.
    pub fn draw(&self, svg: &mut Svg) {
        svg.group("axes");
        for (v, label) in &self.y_ticks {
            let py = self.y.map(*v);
            svg.line(self.left(), py, self.right(), py, "grid");
            svg.text(self.left() - 6.0, py + 4.0, Anchor::End, "tick", label);
        }
        for (v, label) in &self.x_ticks {
            let px = self.x.map(*v);
            svg.line(px, self.top(), px, self.bottom(), "grid");
            svg.text(px, self.bottom() + 16.0, Anchor::Middle, "tick", label);
        }
        for (i, (shown, full)) in self.rows.iter().enumerate() {
            let y = self.row_y(i);
            if i % 2 == 1 {
                svg.rect(
                    self.left(),
                    y - ROW_HEIGHT / 2.0,
                    self.right() - self.left(),
                    ROW_HEIGHT,
                    "band",
                );
            }
            svg.text_titled(self.left() - 6.0, y + 4.0, Anchor::End, "tick", shown, full);
        }
        svg.rect(
            self.left(),
            self.top(),
            self.right() - self.left(),
            self.bottom() - self.top(),
            "frame",
        );
        svg.text(
            (self.left() + self.right()) / 2.0,
            self.bottom() + 36.0,
            Anchor::Middle,
            "title",
            &self.x_title,
        );
        if !self.y_title.is_empty() {
            svg.text_vertical(
                14.0,
                (self.top() + self.bottom()) / 2.0,
                "title",
                &self.y_title,
            );
        }
        svg.end_group();
    }
}

/// The densest tick set whose neighbouring labels keep at least `spacing(a, b)` px apart.
fn pick_ticks(
    axis: &Axis,
    fmt: TickFormat,
    spacing: impl Fn(&str, &str) -> f64,
) -> Vec<(f64, String)> {
    let sets = axis.tick_sets();
    let labelled =
        |set: &Vec<f64>| -> Vec<(f64, String)> { set.iter().map(|v| (*v, fmt(*v))).collect() };
    for set in &sets {
        let ticks = labelled(set);
        let fits = ticks
            .windows(2)
            .all(|w| (axis.map(w[1].0) - axis.map(w[0].0)).abs() >= spacing(&w[0].1, &w[1].1));
        if fits {
            return ticks;
        }
    }
    // Even the sparsest set is crowded: keep its ends.
    let sparsest = sets.last().map(labelled).unwrap_or_default();
    match (sparsest.first(), sparsest.last()) {
        (Some(a), Some(b)) if sparsest.len() > 1 => vec![a.clone(), b.clone()],
        _ => sparsest,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::si;

    fn fmt(v: f64) -> String {
        si(v, 3)
    }

    #[test]
    fn x_labels_never_overlap() {
        for width in [200.0, 400.0, 900.0] {
            let f = Frame::new(
                width,
                300.0,
                Margins::default(),
                Axis::log(1e3, 1e10),
                "x",
                fmt,
                Axis::log(0.1, 1e3),
                "y",
                fmt,
            );
            for w in f.x_ticks().windows(2) {
                let gap = f.x.map(w[1].0) - f.x.map(w[0].0);
                assert!(
                    gap >= (text_width(&w[0].1) + text_width(&w[1].1)) / 2.0,
                    "{width}: {w:?}"
                );
            }
            assert!(f.x_ticks().len() >= 2);
        }
    }

    #[test]
    fn left_margin_fits_y_labels() {
        let f = Frame::new(
            400.0,
            300.0,
            Margins::default(),
            Axis::linear(0.0, 1.0),
            "x",
            fmt,
            Axis::linear(0.0, 123_456_789.0),
            "y",
            fmt,
        );
        assert!(f.left() >= 30.0 + text_width("120M"));
    }
}
