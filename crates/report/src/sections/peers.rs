//! Peers and devices side by side: the same op at the same parameters run by several backends or
//! on several devices (tensorbench's kernels, other crates, NumPy/PyTorch/JAX, CPU and GPU).

use crate::charts::group_by;
use crate::facts::{self, Entry};
use crate::format;
use crate::model::{Cell, Table, num_key, text_key};
use tensorbench_schema::schema::{CacheMode, Run};

/// One way of running a workload, and its measured median.
#[derive(Debug, Clone)]
pub struct Variant {
    pub label: String,
    pub median_ns: f64,
    pub id: String,
    /// Another framework run as a peer (NumPy, PyTorch, ...), not one of ours.
    pub framework: bool,
}

/// A workload (op, dtype, parameters, cache mode) measured by two or more variants, fastest first.
#[derive(Debug, Clone)]
pub struct PeerGroup {
    pub op: String,
    pub dtype: &'static str,
    pub params: String,
    pub bytes: f64,
    pub variants: Vec<Variant>,
}

/// Every workload measured by two or more variants, in first-seen order.
pub fn groups(runs: &[Run]) -> Vec<PeerGroup> {
    let timed = facts::timed(runs);
    group_by(timed, |e| {
        (
            e.m.op.clone(),
            e.m.dtype.name(),
            format::params(&e.m.params),
            e.m.mode == CacheMode::Cold,
        )
    })
    .into_iter()
    .filter_map(|((op, dtype, params, _), es)| {
        let variants = variants(&es);
        (variants.len() >= 2).then(|| PeerGroup {
            op,
            dtype,
            params,
            bytes: es[0].m.bytes,
            variants,
        })
    })
    .collect()
}

/// The variants of one workload; thread counts are named only when they differ.
fn variants(es: &[Entry<'_>]) -> Vec<Variant> {
    let threads_vary = es.iter().any(|e| e.m.threads != es[0].m.threads);
    let label = |e: &&Entry<'_>| {
        let v = facts::variant(e.m);
        if threads_vary {
            format!("{v} · {}T", e.m.threads)
        } else {
            v
        }
    };
    let mut out: Vec<Variant> = group_by(es.iter(), label)
        .into_iter()
        .filter_map(|(label, g)| {
            // Repeated runs of one variant: their median.
            let mut meds: Vec<(f64, &Entry<'_>)> = g
                .iter()
                .filter_map(|e| Some((facts::median_ns(e.m)?, *e)))
                .collect();
            meds.sort_by(|a, b| a.0.total_cmp(&b.0));
            let (median_ns, e) = *meds.get(meds.len() / 2)?;
            Some(Variant {
                label,
                median_ns,
                id: e.m.id.clone(),
                framework: facts::is_framework(&e.m.backend),
            })
        })
        .collect();
    out.sort_by(|a, b| a.median_ns.total_cmp(&b.median_ns));
    out
}

/// The side-by-side table: one row per workload, every variant with its time relative to the
/// fastest.
pub fn table(groups: &[PeerGroup]) -> Table {
    let mut t = Table::new(
        "peers",
        &[
            ("op", false, None),
            ("dtype", false, None),
            ("params", false, None),
            ("fastest", false, None),
            ("median", true, None),
            (
                "slowest / fastest",
                true,
                Some("how many times slower the slowest variant is"),
            ),
            ("all variants (time relative to the fastest)", false, None),
        ],
    );
    for g in groups {
        let best = &g.variants[0];
        let worst = g
            .variants
            .last()
            .map_or(1.0, |w| w.median_ns / best.median_ns);
        let all = g
            .variants
            .iter()
            .map(|v| {
                format!(
                    "{}{}: {} (×{})",
                    v.label,
                    if v.framework { " [peer]" } else { "" },
                    format::format_ns(v.median_ns),
                    format::significant(v.median_ns / best.median_ns, 3)
                )
            })
            .collect::<Vec<_>>()
            .join(" · ");
        t.push(
            vec![
                Cell::text(&g.op),
                Cell::text(g.dtype),
                Cell::text(&g.params),
                Cell::text(&best.label).with_title(&best.id),
                Cell::text(format::format_ns(best.median_ns)),
                Cell::text(format!("×{}", format::significant(worst, 3))),
                Cell::text(all),
            ],
            vec![
                text_key(&g.op),
                text_key(g.dtype),
                text_key(&g.params),
                text_key(&best.label),
                num_key(Some(best.median_ns)),
                num_key(Some(worst)),
                text_key(""),
            ],
            None,
        );
    }
    t
}
