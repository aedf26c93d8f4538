//! What machine this is. Every field is read, never guessed: what cannot be read is `None`.

use crate::schema::{Caches, GitInfo, Machine};
use std::path::Path;
use std::process::Command;

/// Reads the host's CPU, caches, features, memory, OS and load.
pub fn detect() -> Machine {
    let mut sys = sysinfo::System::new();
    sys.refresh_cpu_list(sysinfo::CpuRefreshKind::nothing());
    sys.refresh_memory();
    let cpu_model = sys
        .cpus()
        .first()
        .map(|c| c.brand().trim().to_string())
        .filter(|s| !s.is_empty());
    let rustc = option_env!("TENSORBENCH_RUSTC_VERSION")
        .filter(|s| !s.is_empty())
        .map(str::to_string);
    Machine {
        hostname: sysinfo::System::host_name(),
        cpu_model,
        arch: std::env::consts::ARCH.to_string(),
        physical_cores: sysinfo::System::physical_core_count(),
        logical_cores: std::thread::available_parallelism().map_or(1, |n| n.get()),
        caches: read_caches(Path::new("/sys/devices/system/cpu/cpu0/cache")),
        features: cpu_features(),
        memory_bytes: Some(sys.total_memory()).filter(|&m| m > 0),
        os: sysinfo::System::long_os_version(),
        kernel: sysinfo::System::kernel_version(),
        rustc,
        governor: read_trimmed("/sys/devices/system/cpu/cpu0/cpufreq/scaling_governor"),
        load_avg_1m: Some(sysinfo::System::load_average().one).filter(|l| *l >= 0.0),
        gpus: Vec::new(),
    }
}

/// Bytes of free memory the OS would hand out now (MemAvailable), if readable.
pub fn available_memory_bytes() -> Option<u64> {
    let mut sys = sysinfo::System::new();
    sys.refresh_memory();
    Some(sys.available_memory()).filter(|&m| m > 0)
}

fn read_trimmed(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path)
        .ok()
        .map(|s| s.trim().to_string())
        .filter(|s| !s.is_empty())
}

/// Parses Linux's `/sys/.../cache/index*/{level,type,size}`.
pub(crate) fn read_caches(dir: &Path) -> Caches {
    let mut caches = Caches::default();
    let Ok(entries) = std::fs::read_dir(dir) else {
        return caches;
    };
    for e in entries.flatten() {
        let p = e.path();
        let (Some(level), Some(kind), Some(size)) = (
            read_trimmed(p.join("level")),
            read_trimmed(p.join("type")),
            read_trimmed(p.join("size")).and_then(|s| parse_cache_size(&s)),
        ) else {
            continue;
        };
        match (level.as_str(), kind.as_str()) {
            ("1", "Data") => caches.l1d = Some(size),
            ("2", _) => caches.l2 = Some(size),
            ("3", _) => caches.l3 = Some(size),
            _ => {}
        }
    }
    caches
}

/// `32K` → 32768; `1024K`; `32M`.
pub(crate) fn parse_cache_size(s: &str) -> Option<u64> {
    let s = s.trim();
    let (num, mul) = match s.chars().last()? {
        'K' | 'k' => (&s[..s.len() - 1], 1024),
        'M' | 'm' => (&s[..s.len() - 1], 1024 * 1024),
        'G' | 'g' => (&s[..s.len() - 1], 1024 * 1024 * 1024),
        _ => (s, 1),
    };
    num.parse::<u64>().ok().map(|n| n * mul)
}

/// The last-level cache in bytes, or 32 MiB when the machine does not say.
pub fn last_level_cache_bytes(m: &Machine) -> u64 {
    m.caches.l3.or(m.caches.l2).unwrap_or(32 << 20)
}

/// SIMD features detected at run time.
pub fn cpu_features() -> Vec<String> {
    #[cfg_attr(target_arch = "wasm32", allow(unused_mut))] // nothing to probe there
    let mut f = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => {$(
                if std::arch::is_x86_feature_detected!($name) { f.push($name.to_string()); }
            )*};
        }
        probe!(
            "sse4.2",
            "avx",
            "avx2",
            "fma",
            "f16c",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vnni",
            "avx512bf16"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => {$(
                if std::arch::is_aarch64_feature_detected!($name) { f.push($name.to_string()); }
            )*};
        }
        probe!("neon", "fp16", "dotprod", "sve");
    }
    f
}

/// Commit, dirty flag and branch of the git checkout at `dir`; all `None` outside a checkout.
pub fn git_info(dir: &Path) -> GitInfo {
    let git = |args: &[&str]| {
        Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()
            .filter(|o| o.status.success())
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
    };
    GitInfo {
        commit: git(&["rev-parse", "HEAD"]),
        dirty: git(&["status", "--porcelain", "--untracked-files=no"]).map(|s| !s.is_empty()),
        branch: git(&["rev-parse", "--abbrev-ref", "HEAD"]),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cache_sizes_parse() {
        assert_eq!(parse_cache_size("32K"), Some(32768));
        assert_eq!(parse_cache_size("32M"), Some(32 << 20));
        assert_eq!(parse_cache_size("512"), Some(512));
        assert_eq!(parse_cache_size("x"), None);
    }

    #[test]
    fn detect_reads_this_machine() {
        let m = detect();
        assert!(m.logical_cores >= 1);
        assert_eq!(m.arch, std::env::consts::ARCH);
    }
}
