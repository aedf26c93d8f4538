//! Writing a workload's inputs and outputs to disk so a peer framework can recompute the op on
//! identical data and compare. Layout per workload: `<dir>/<index>/meta.json` (spec, seed, and each
//! tensor's name, role, shape and file) and one little-endian f32 file per tensor.

use crate::workload::Workload;
use crate::{Error, Result};
use std::path::Path;

/// Prepares and runs each workload once and writes the tensors of those that expose any.
/// Returns how many workloads were written.
pub(crate) fn dump_all(
    workloads: &mut [Box<dyn Workload>],
    dir: &Path,
    seed: u64,
) -> Result<usize> {
    let mut written = 0;
    for (index, w) in workloads.iter_mut().enumerate() {
        if w.unavailable().is_some() {
            continue;
        }
        w.prepare(seed.wrapping_add(index as u64))?;
        w.execute();
        w.sync()?;
        let tensors = w.tensors();
        if tensors.is_empty() {
            continue;
        }
        let sub = dir.join(written.to_string());
        std::fs::create_dir_all(&sub).map_err(|e| Error::io(&sub, e))?;
        let mut meta = Vec::new();
        for t in &tensors {
            let file = format!("{}.f32", t.name);
            let bytes: Vec<u8> = t.data.iter().flat_map(|x| x.to_le_bytes()).collect();
            std::fs::write(sub.join(&file), bytes).map_err(|e| Error::io(sub.join(&file), e))?;
            meta.push(serde_json::json!({
                "name": t.name, "role": t.role, "shape": t.shape, "file": file,
            }));
        }
        let body = serde_json::json!({ "spec": w.spec(), "seed": seed, "tensors": meta });
        let meta_path = sub.join("meta.json");
        std::fs::write(&meta_path, serde_json::to_vec_pretty(&body)?)
            .map_err(|e| Error::io(&meta_path, e))?;
        written += 1;
    }
    Ok(written)
}
