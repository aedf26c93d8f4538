//! The report's charts, drawn as inline SVG. Each returns a [`Chart`](crate::model::Chart) with its
//! legend and notes saying what it left out.

pub mod comparison;
pub mod distribution;
pub mod history;
pub mod peers;
pub mod roofline;
pub mod scaling;
pub mod threads;

use crate::format;
use std::collections::HashMap;
use std::hash::Hash;

/// Size of a chart in a two-column grid.
pub const WIDTH: f64 = 560.0;
pub const HEIGHT: f64 = 340.0;

/// Tick labels: plain below a thousand (`0.05`, `20`), with an SI prefix above (`10k`, `2G`).
pub fn tick_si(v: f64) -> String {
    if v.abs() >= 1000.0 {
        format::si(v, 3)
    } else {
        format::significant(v, 3)
    }
}

/// Tick labels for byte counts (`1 kB`, `16 MB`).
pub fn tick_bytes(v: f64) -> String {
    format::bytes(v)
}

/// Tick labels for fractions shown as percentages (`0.25` → `25%`).
pub fn tick_percent(v: f64) -> String {
    format!("{}%", format::significant(v * 100.0, 3))
}

/// Groups `items` by `key`, keeping the order in which keys first appear.
pub fn group_by<T, K: Hash + Eq + Clone>(
    items: impl IntoIterator<Item = T>,
    key: impl Fn(&T) -> K,
) -> Vec<(K, Vec<T>)> {
    let mut index: HashMap<K, usize> = HashMap::new();
    let mut groups: Vec<(K, Vec<T>)> = Vec::new();
    for item in items {
        let k = key(&item);
        match index.get(&k) {
            Some(&i) => groups[i].1.push(item),
            None => {
                index.insert(k.clone(), groups.len());
                groups.push((k, vec![item]));
            }
        }
    }
    groups
}
