//! Numbers as people read them: durations, rates, sizes, parameters.

use std::collections::BTreeMap;

pub use tensorbench_analysis::render::format_ns;

/// A value with an SI prefix and `digits` significant digits, e.g. `12.3G`, `950m`.
pub fn si(v: f64, digits: usize) -> String {
    let (number, prefix) = si_parts(v, digits);
    format!("{number}{prefix}")
}

/// `v` with `unit` and an SI prefix: `with_unit(2.7e10, "B/s")` → `27 GB/s`.
pub fn with_unit(v: f64, unit: &str) -> String {
    let (number, prefix) = si_parts(v, 3);
    format!("{number} {prefix}{unit}")
}

fn si_parts(v: f64, digits: usize) -> (String, &'static str) {
    const PREFIXES: [(f64, &str); 9] = [
        (1e15, "P"),
        (1e12, "T"),
        (1e9, "G"),
        (1e6, "M"),
        (1e3, "k"),
        (1.0, ""),
        (1e-3, "m"),
        (1e-6, "µ"),
        (1e-9, "n"),
    ];
    if v == 0.0 || !v.is_finite() {
        return (format!("{v}"), "");
    }
    // Rounding to `digits` may carry into the next prefix (999.96 → 1k), so compare rounded.
    let rounded: f64 = significant(v, digits).parse().unwrap_or(v);
    let (scale, prefix) = PREFIXES
        .iter()
        .copied()
        .find(|(s, _)| rounded.abs() >= *s)
        .unwrap_or((1e-9, "n"));
    (significant(v / scale, digits), prefix)
}

/// `v` with `digits` significant digits and no trailing zeros (`1.50` → `1.5`).
pub fn significant(v: f64, digits: usize) -> String {
    if v == 0.0 || !v.is_finite() {
        return format!("{v}");
    }
    let magnitude = v.abs().log10().floor() as i32;
    let decimals = (digits as i32 - 1 - magnitude).max(0) as usize;
    let s = format!("{v:.decimals$}");
    if s.contains('.') {
        s.trim_end_matches('0').trim_end_matches('.').to_string()
    } else {
        s
    }
}

/// A rate given in GFLOP/s, with a readable prefix (`1.2 TFLOP/s`, `850 MFLOP/s`).
pub fn gflops(v: f64) -> String {
    with_unit(v * 1e9, "FLOP/s")
}

/// A bandwidth given in GB/s, with a readable prefix (`27.1 GB/s`, `640 MB/s`).
pub fn gbps(v: f64) -> String {
    with_unit(v * 1e9, "B/s")
}

/// A byte count with a decimal prefix (`16.8 MB`).
pub fn bytes(v: f64) -> String {
    with_unit(v, "B")
}

/// A binary byte size for caches and memory (`32 KiB`, `24 GiB`).
pub fn bytes_binary(v: u64) -> String {
    const UNITS: [&str; 5] = ["B", "KiB", "MiB", "GiB", "TiB"];
    let mut x = v as f64;
    let mut unit = 0;
    while x >= 1024.0 && unit + 1 < UNITS.len() {
        x /= 1024.0;
        unit += 1;
    }
    format!("{} {}", significant(x, 3), UNITS[unit])
}

/// A fraction as a percentage (`0.981` → `98.1%`).
pub fn percent(fraction: f64) -> String {
    format!("{}%", significant(fraction * 100.0, 3))
}

/// A relative change (`1.053` → `+5.3%`).
pub fn change(ratio: f64) -> String {
    format!("{:+.1}%", (ratio - 1.0) * 100.0)
}

/// Parameters as `k=v` pairs joined by `, ` (strings unquoted).
pub fn params(params: &BTreeMap<String, serde_json::Value>) -> String {
    params
        .iter()
        .map(|(k, v)| match v {
            serde_json::Value::String(s) => format!("{k}={s}"),
            other => format!("{k}={other}"),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// The first 12 characters of a commit hash, cut by characters (a run file may hold any text there).
pub fn short_commit(commit: &str) -> &str {
    commit
        .char_indices()
        .nth(12)
        .map_or(commit, |(i, _)| &commit[..i])
}

/// At most `max` characters of `s`, cutting from the middle so both ends stay (`cpu-simd/…/n=1024`).
pub fn truncate_middle(s: &str, max: usize) -> String {
    let n = s.chars().count();
    if n <= max {
        return s.to_string();
    }
    let keep = max.saturating_sub(1);
    let head = keep * 2 / 5;
    let tail = keep - head;
    let start: String = s.chars().take(head).collect();
    let end: String = s.chars().skip(n - tail).collect();
    format!("{start}…{end}")
}

/// A duration axis unit for values around `typical_ns`: its divisor and name.
pub fn time_unit(typical_ns: f64) -> (f64, &'static str) {
    match typical_ns.abs() {
        x if x >= 1e9 => (1e9, "s"),
        x if x >= 1e6 => (1e6, "ms"),
        x if x >= 1e3 => (1e3, "µs"),
        _ => (1.0, "ns"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn si_prefixes_and_digits() {
        assert_eq!(si(27.1e9, 3), "27.1G");
        assert_eq!(si(999.96, 3), "1k");
        assert_eq!(si(0.25, 2), "250m");
        assert_eq!(si(1.0, 3), "1");
        assert_eq!(si(1500.0, 3), "1.5k");
    }

    #[test]
    fn rates_read_naturally() {
        assert_eq!(gflops(190.0), "190 GFLOP/s");
        assert_eq!(gflops(0.85), "850 MFLOP/s");
        assert_eq!(gbps(27.1), "27.1 GB/s");
        assert_eq!(gbps(1.5e-3), "1.5 MB/s");
        assert_eq!(bytes(16_777_216.0), "16.8 MB");
        assert_eq!(bytes(512.0), "512 B");
    }

    #[test]
    fn binary_sizes_and_percentages() {
        assert_eq!(bytes_binary(32768), "32 KiB");
        assert_eq!(bytes_binary(25_769_803_776), "24 GiB");
        assert_eq!(percent(0.981), "98.1%");
        assert_eq!(change(1.053), "+5.3%");
        assert_eq!(change(0.9), "-10.0%");
    }

    #[test]
    fn params_and_truncation() {
        let mut p = BTreeMap::new();
        p.insert("n".to_string(), serde_json::json!(1024));
        p.insert("layout".to_string(), serde_json::json!("nhwc"));
        assert_eq!(params(&p), "layout=nhwc, n=1024");
        assert_eq!(truncate_middle("abcdefghij", 6), "ab…hij");
        assert_eq!(truncate_middle("abc", 6), "abc");
        assert_eq!(short_commit("0123456789abcdef"), "0123456789ab");
        assert_eq!(short_commit("ééééééééééééééé"), "éééééééééééé");
        assert_eq!(short_commit("ab"), "ab");
    }
}
