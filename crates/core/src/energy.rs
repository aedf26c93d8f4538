//! Energy counters read around timed batches: joules per op and GFLOP/J beside the time.
//!
//! Only hardware counters are read (Linux RAPL under `/sys/class/powercap` on the host, NVML on
//! NVIDIA GPUs through the gpu crate). Where no counter can be read the measurement carries the
//! reason and no figure: nothing is derived from a power model.

use crate::{Error, Result};
use std::fs;
use std::path::{Path, PathBuf};

/// What [`Error::Unavailable`] names for the host's counters.
const RAPL: &str = "RAPL energy counters";

/// A cumulative energy counter.
pub trait EnergyMeter: Send {
    /// What is read, e.g. `rapl:package-0+dram-0` or `nvml:NVIDIA H100`.
    fn source(&self) -> String;

    /// Joules consumed since the meter was opened. Monotonic: counter wrap-around is handled.
    fn joules(&mut self) -> Result<f64>;

    /// The shortest sampling loop whose energy is reported: below it, the counter's update
    /// interval would make the figure mostly quantisation. RAPL updates about every millisecond.
    fn min_window_s(&self) -> f64 {
        0.05
    }
}

/// The sysfs root of the Linux power-capping framework.
pub(crate) const POWERCAP_ROOT: &str = "/sys/class/powercap";

/// The host's energy meter: RAPL when this machine exposes it, else the reason it cannot be read.
pub(crate) fn host_meter() -> Result<Box<dyn EnergyMeter>> {
    Rapl::open(Path::new(POWERCAP_ROOT)).map(|r| Box::new(r) as Box<dyn EnergyMeter>)
}

/// One RAPL zone: a counter in microjoules that wraps at `max_range_uj`.
#[derive(Debug)]
struct Zone {
    name: String,
    energy_path: PathBuf,
    max_range_uj: u64,
    last_uj: u64,
    total_uj: u128,
}

impl Zone {
    fn read_uj(&self) -> Result<u64> {
        read_u64(&self.energy_path)
    }

    fn advance(&mut self) -> Result<()> {
        let now = self.read_uj()?;
        let delta = if now >= self.last_uj {
            now - self.last_uj
        } else {
            // Wrapped once since the last read (reads are milliseconds apart; a wrap takes minutes).
            self.max_range_uj - self.last_uj + now
        };
        self.total_uj += u128::from(delta);
        self.last_uj = now;
        Ok(())
    }
}

/// Package and DRAM RAPL domains of every socket, summed. Package energy covers the cores and
/// uncore of the whole socket, so it includes whatever else the machine runs meanwhile.
#[derive(Debug)]
pub(crate) struct Rapl {
    zones: Vec<Zone>,
}

impl Rapl {
    /// Opens every package zone (`intel-rapl:N`) and its DRAM subzone under `root`.
    pub(crate) fn open(root: &Path) -> Result<Self> {
        let entries = fs::read_dir(root).map_err(|e| {
            let reason = format!(
                "no RAPL energy counters: {} cannot be read ({e}); machines without them \
                 (most VMs, non-x86 hosts) report no energy",
                root.display()
            );
            Error::unavailable(RAPL, reason)
        })?;
        let mut dirs: Vec<PathBuf> = entries
            .filter_map(|e| e.ok().map(|e| e.path()))
            .filter(|p| is_rapl_zone(p))
            .collect();
        dirs.sort();
        let zones = dirs
            .iter()
            .filter(|d| counts_separately(d))
            .map(|d| open_zone(d))
            .collect::<Result<Vec<_>>>()?;
        if zones.is_empty() {
            let reason = format!(
                "no RAPL energy counters under {} (no intel-rapl zones exposed on this machine)",
                root.display()
            );
            return Err(Error::unavailable(RAPL, reason));
        }
        Ok(Self { zones })
    }
}

impl EnergyMeter for Rapl {
    fn source(&self) -> String {
        let names: Vec<&str> = self.zones.iter().map(|z| z.name.as_str()).collect();
        format!("rapl:{}", names.join("+"))
    }

    fn joules(&mut self) -> Result<f64> {
        let mut total = 0u128;
        for zone in &mut self.zones {
            zone.advance()?;
            total += zone.total_uj;
        }
        Ok(total as f64 * 1e-6)
    }
}

fn is_rapl_zone(path: &Path) -> bool {
    path.file_name()
        .and_then(|n| n.to_str())
        .is_some_and(|n| n.starts_with("intel-rapl:"))
}

/// Package zones (`intel-rapl:N`) and DRAM subzones: the core/uncore subzones are already part
/// of their package, so counting them would count energy twice.
fn counts_separately(dir: &Path) -> bool {
    let file = dir.file_name().and_then(|n| n.to_str()).unwrap_or("");
    let depth = file.matches(':').count();
    let name = fs::read_to_string(dir.join("name")).unwrap_or_default();
    depth == 1 || name.trim() == "dram"
}

fn open_zone(dir: &Path) -> Result<Zone> {
    let name_path = dir.join("name");
    let name = fs::read_to_string(&name_path)
        .map(|s| s.trim().to_string())
        .map_err(|e| Error::io(name_path, e))?;
    let energy_path = dir.join("energy_uj");
    let last_uj = read_u64(&energy_path)?;
    let max_range_uj = read_u64(&dir.join("max_energy_range_uj"))?;
    Ok(Zone {
        name,
        energy_path,
        max_range_uj,
        last_uj,
        total_uj: 0,
    })
}

fn read_u64(path: &Path) -> Result<u64> {
    let text = fs::read_to_string(path).map_err(|e| {
        let hint = if e.kind() == std::io::ErrorKind::PermissionDenied {
            " (RAPL counters are root-only since Linux 5.10: run as root or grant read access)"
        } else {
            ""
        };
        Error::unavailable(RAPL, format!("{}: {e}{hint}", path.display()))
    })?;
    text.trim()
        .parse()
        .map_err(|e| Error::unavailable(RAPL, format!("{}: not an integer ({e})", path.display())))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn zone(root: &Path, dir: &str, name: &str, uj: u64, max: u64) {
        let d = root.join(dir);
        fs::create_dir_all(&d).unwrap();
        fs::write(d.join("name"), format!("{name}\n")).unwrap();
        fs::write(d.join("energy_uj"), format!("{uj}\n")).unwrap();
        fs::write(d.join("max_energy_range_uj"), format!("{max}\n")).unwrap();
    }

    fn set(root: &Path, dir: &str, uj: u64) {
        fs::write(root.join(dir).join("energy_uj"), format!("{uj}\n")).unwrap();
    }

    #[test]
    fn sums_packages_and_dram_but_not_core_subzones() {
        let t = tempfile::tempdir().unwrap();
        zone(t.path(), "intel-rapl:0", "package-0", 1_000, 1 << 32);
        zone(t.path(), "intel-rapl:0:0", "core", 500, 1 << 32);
        zone(t.path(), "intel-rapl:0:1", "dram", 100, 1 << 32);
        let mut rapl = Rapl::open(t.path()).unwrap();
        assert_eq!(rapl.source(), "rapl:package-0+dram");
        set(t.path(), "intel-rapl:0", 3_000_000);
        set(t.path(), "intel-rapl:0:0", 2_000_000);
        set(t.path(), "intel-rapl:0:1", 1_000_100);
        let j = rapl.joules().unwrap();
        assert!((j - (2.999 + 1.0)).abs() < 1e-9, "{j}");
    }

    #[test]
    fn handles_counter_wrap() {
        let t = tempfile::tempdir().unwrap();
        zone(t.path(), "intel-rapl:0", "package-0", 900, 1_000);
        let mut rapl = Rapl::open(t.path()).unwrap();
        set(t.path(), "intel-rapl:0", 50);
        assert!((rapl.joules().unwrap() - 150e-6).abs() < 1e-12);
        set(t.path(), "intel-rapl:0", 70);
        assert!((rapl.joules().unwrap() - 170e-6).abs() < 1e-12);
    }

    #[test]
    fn missing_root_gives_the_reason() {
        let t = tempfile::tempdir().unwrap();
        let err = Rapl::open(&t.path().join("absent")).unwrap_err();
        assert!(matches!(err, Error::Unavailable { .. }), "{err:?}");
        let err = err.to_string();
        assert!(err.starts_with("no RAPL energy counters: "), "{err}");
        let err = Rapl::open(t.path()).unwrap_err().to_string();
        assert!(err.contains("no intel-rapl zones"), "{err}");
    }

    #[test]
    fn unreadable_counter_names_the_file() {
        let t = tempfile::tempdir().unwrap();
        zone(t.path(), "intel-rapl:0", "package-0", 1, 10);
        fs::write(t.path().join("intel-rapl:0/energy_uj"), "garbage").unwrap();
        let err = Rapl::open(t.path()).unwrap_err().to_string();
        assert!(
            err.contains("energy_uj") && err.contains("not an integer"),
            "{err}"
        );
    }
}
