//! The shapes the HTML template renders: generic tables (sortable, filterable, paged by the page's
//! script) and charts (an SVG string with an HTML legend).

use serde::Serialize;
use serde_json::Value;

/// A table the page's script can sort, filter and page. Cells are plain text (escaped by the
/// template); `keys` hold one sort key per cell (a number, or text), aligned with the rows.
#[derive(Debug, Clone, Serialize)]
pub struct Table {
    /// Unique in the page; the script finds this table's sort keys under it.
    pub id: String,
    pub columns: Vec<Column>,
    pub rows: Vec<Row>,
    #[serde(skip)]
    pub keys: Vec<Vec<Value>>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Column {
    pub label: String,
    /// Right-aligned and sorted as numbers.
    pub numeric: bool,
    /// Explains the column on hover.
    pub help: Option<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct Row {
    pub cells: Vec<Cell>,
    /// A CSS class for the whole row (`slower`, `faster`, ...).
    pub class: Option<String>,
}

#[derive(Debug, Clone, Default, Serialize)]
pub struct Cell {
    pub text: String,
    pub class: Option<String>,
    /// Shown on hover: the exact values behind a rounded cell.
    pub title: Option<String>,
}

impl Cell {
    pub fn text(text: impl Into<String>) -> Self {
        Self {
            text: text.into(),
            ..Self::default()
        }
    }

    pub fn with_class(mut self, class: &str) -> Self {
        self.class = Some(class.to_string());
        self
    }

    pub fn with_title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }
}

impl Table {
    /// An empty table with these columns; `(label, numeric, help)`.
    pub fn new(id: impl Into<String>, columns: &[(&str, bool, Option<&str>)]) -> Self {
        Self {
            id: id.into(),
            columns: columns
                .iter()
                .map(|(label, numeric, help)| Column {
                    label: label.to_string(),
                    numeric: *numeric,
                    help: help.map(str::to_string),
                })
                .collect(),
            rows: Vec::new(),
            keys: Vec::new(),
        }
    }

    /// Adds a row: its cells and one sort key per cell.
    /// Numeric columns' cells get the `num` class (right-aligned).
    pub fn push(&mut self, mut cells: Vec<Cell>, keys: Vec<Value>, class: Option<&str>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        debug_assert_eq!(keys.len(), self.columns.len());
        for (cell, col) in cells.iter_mut().zip(&self.columns) {
            if col.numeric {
                cell.class = Some(match cell.class.take() {
                    Some(c) => format!("num {c}"),
                    None => "num".into(),
                });
            }
        }
        self.rows.push(Row {
            cells,
            class: class.map(str::to_string),
        });
        self.keys.push(keys);
    }

    pub fn is_empty(&self) -> bool {
        self.rows.is_empty()
    }
}

/// A sort key from an optional number (missing values sort last).
pub fn num_key(v: Option<f64>) -> Value {
    v.filter(|x| x.is_finite())
        .map_or(Value::Null, |x| serde_json::json!(x))
}

/// A sort key from text.
pub fn text_key(s: &str) -> Value {
    Value::String(s.to_string())
}

/// One chart: an inline SVG with its legend, title and notes.
#[derive(Debug, Clone, Serialize)]
pub struct Chart {
    pub title: String,
    /// Trusted SVG markup drawn by [`crate::svg::Svg`] (all text in it is escaped there).
    pub svg: String,
    pub legend: Vec<LegendItem>,
    /// What the chart leaves out (capped series, points without a cost model, ...).
    pub notes: Vec<String>,
}

/// A legend entry: the series colour class (`c0`..`c9`, or a named class) and its label.
#[derive(Debug, Clone, Serialize)]
pub struct LegendItem {
    pub class: String,
    pub label: String,
    /// `line`, `dash`, `marker` or `box`: how the swatch is drawn.
    pub kind: &'static str,
}

impl LegendItem {
    pub fn new(class: impl Into<String>, label: impl Into<String>, kind: &'static str) -> Self {
        Self {
            class: class.into(),
            label: label.into(),
            kind,
        }
    }
}

/// Number of distinct series colours in the stylesheet (`.c0` … `.c9`).
pub const PALETTE: usize = 10;

/// The colour class of series `i`; past the palette, series share the last (grey) colour.
pub fn series_class(i: usize) -> String {
    format!("c{}", i.min(PALETTE - 1))
}
