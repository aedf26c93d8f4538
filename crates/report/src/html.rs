//! The HTML report: builds every section from the input and renders the page template.

use crate::charts;
use crate::embed::script_json;
use crate::model::{Chart, Table};
use crate::sections::history::{self, HistoryView};
use crate::sections::measurements::{self, SuiteTable};
use crate::sections::overview::{self, Counts, RunView};
use crate::sections::peers;
use crate::sections::verdicts::{self, ComparisonView};
use crate::{ReportInput, Result};
use minijinja::{AutoEscape, Environment};
use serde::Serialize;
use std::collections::BTreeMap;

const PAGE: &str = include_str!("../templates/report.html");
const MACROS: &str = include_str!("../templates/macros.html");
const CSS: &str = include_str!("../templates/report.css");
const SCRIPT: &str = include_str!("../templates/report.js");

/// Charts of one section with the notes on what they leave out.
#[derive(Debug, Serialize)]
struct ChartSection {
    charts: Vec<Chart>,
    notes: Vec<String>,
}

impl From<(Vec<Chart>, Vec<String>)> for ChartSection {
    fn from((charts, notes): (Vec<Chart>, Vec<String>)) -> Self {
        Self { charts, notes }
    }
}

#[derive(Debug, Serialize)]
struct PeersView {
    chart: Option<Chart>,
    table: Table,
    has_frameworks: bool,
}

#[derive(Debug, Serialize)]
struct Docs {
    interpreting: String,
    troubleshooting: String,
}

#[derive(Debug, Serialize)]
struct NavItem {
    id: &'static str,
    label: &'static str,
}

/// Everything the page template reads.
#[derive(Debug, Serialize)]
struct Page {
    title: String,
    version: &'static str,
    docs: Docs,
    nav: Vec<NavItem>,
    totals: Counts,
    runs: Vec<RunView>,
    comparisons: Vec<ComparisonView>,
    suites: Vec<SuiteTable>,
    not_measured: Table,
    rooflines: Vec<Chart>,
    scaling: ChartSection,
    threads: ChartSection,
    distributions: ChartSection,
    history: Option<HistoryView>,
    peers: Option<PeersView>,
    css: &'static str,
    script: &'static str,
    /// Sort keys of every table and the page size, for the script (escaped for a script element).
    data_json: String,
    /// The runs themselves, so the report carries its data (escaped for a script element).
    runs_json: String,
}

/// Renders the whole report as one self-contained HTML document.
pub fn render_html(input: &ReportInput) -> Result<String> {
    let page = build(input)?;
    let mut env = Environment::new();
    env.set_auto_escape_callback(|_| AutoEscape::Html);
    env.add_template("macros.html", MACROS)?;
    env.add_template("report.html", PAGE)?;
    Ok(env.get_template("report.html")?.render(&page)?)
}

fn build(input: &ReportInput) -> Result<Page> {
    let runs = &input.runs;
    let opts = &input.options;
    let comparisons: Vec<ComparisonView> = input
        .comparisons
        .iter()
        .enumerate()
        .map(|(i, c)| verdicts::view(c, i))
        .collect();
    let suites = measurements::suite_tables(runs);
    let not_measured = measurements::not_measured(runs);
    let rooflines = runs
        .iter()
        .flat_map(|r| {
            let suffix = if runs.len() > 1 {
                format!(" ({})", r.run_id)
            } else {
                String::new()
            };
            charts::roofline::charts(r, &suffix)
        })
        .collect();
    let history = (!input.history.is_empty()).then(|| history::view(&input.history, opts));
    let peer_groups = peers::groups(runs);
    let peers = (!peer_groups.is_empty()).then(|| PeersView {
        chart: charts::peers::chart(&peer_groups, opts),
        table: peers::table(&peer_groups),
        has_frameworks: peer_groups
            .iter()
            .any(|g| g.variants.iter().any(|v| v.framework)),
    });

    let mut tables: BTreeMap<&str, &Vec<Vec<serde_json::Value>>> = BTreeMap::new();
    for t in suites.iter().map(|s| &s.table).chain([&not_measured]) {
        tables.insert(&t.id, &t.keys);
    }
    for c in &comparisons {
        tables.insert(&c.table.id, &c.table.keys);
    }
    if let Some(h) = &history {
        tables.insert(&h.steps.id, &h.steps.keys);
    }
    if let Some(p) = &peers {
        tables.insert(&p.table.id, &p.table.keys);
    }
    let data_json =
        script_json(&serde_json::json!({ "pageSize": opts.page_size, "tables": tables }))?;
    let runs_json = script_json(runs)?;

    let mut totals = Counts::default();
    for r in runs {
        let c = overview::counts(r);
        totals.total += c.total;
        totals.ok += c.ok;
        totals.invalid += c.invalid;
        totals.failed += c.failed;
        totals.skipped += c.skipped;
    }
    let page = Page {
        title: opts.title.clone().unwrap_or_else(|| title(input)),
        version: env!("CARGO_PKG_VERSION"),
        docs: Docs {
            interpreting: format!("{}INTERPRETING.md", opts.docs_base),
            troubleshooting: format!("{}TROUBLESHOOTING.md", opts.docs_base),
        },
        nav: Vec::new(),
        totals,
        runs: runs.iter().map(overview::run_view).collect(),
        comparisons,
        suites,
        not_measured,
        rooflines,
        scaling: charts::scaling::charts(runs, opts).into(),
        threads: charts::threads::charts(runs, opts).into(),
        distributions: charts::distribution::charts(runs, opts).into(),
        history,
        peers,
        css: CSS,
        script: SCRIPT,
        data_json,
        runs_json,
    };
    Ok(Page {
        nav: nav(&page),
        ..page
    })
}

fn title(input: &ReportInput) -> String {
    match input.runs.as_slice() {
        [] => "tensorbench report".into(),
        [one] => format!("tensorbench — {} ({})", one.target, one.run_id),
        many => format!(
            "tensorbench — {} runs ({})",
            many.len(),
            many.iter()
                .map(|r| r.target.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ),
    }
}

/// The sections present, in page order.
fn nav(page: &Page) -> Vec<NavItem> {
    let mut nav = vec![NavItem {
        id: "overview",
        label: "Overview",
    }];
    let mut add = |present: bool, id, label| {
        if present {
            nav.push(NavItem { id, label });
        }
    };
    add(!page.comparisons.is_empty(), "comparison", "Comparison");
    add(true, "measurements", "Measurements");
    add(
        !page.not_measured.is_empty(),
        "not-measured",
        "Not measured",
    );
    add(true, "roofline", "Roofline");
    add(!page.scaling.charts.is_empty(), "scaling", "Scaling");
    add(!page.threads.charts.is_empty(), "threads", "Threads");
    add(
        !page.distributions.charts.is_empty(),
        "distributions",
        "Distributions",
    );
    add(page.history.is_some(), "history", "History");
    add(page.peers.is_some(), "peers", "Peers & devices");
    add(true, "guides", "Guides");
    nav
}
