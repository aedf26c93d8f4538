//! The run-file schema moved to tensorbench-schema; every path it had in core still works, and a
//! run-file error still converts into core's error with its message (file and field) intact.

use std::path::Path;
use tensorbench_core::clock::ClockSource;
use tensorbench_core::events::Event;
use tensorbench_core::roofline::{BANDWIDTH_KEY, COMPUTE_KEY, classify, compute_key};
use tensorbench_core::sampler::{blank_measurement, skipped};
use tensorbench_core::schema::{CacheMode, Peaks, SCHEMA_VERSION, Status};
use tensorbench_core::stats::summarize;
use tensorbench_core::store::{load_run, machine_slug, parse_run};
use tensorbench_core::workload::WorkloadSpec;
use tensorbench_core::{DType, Measurement};

#[test]
fn old_paths_name_the_schema_crates_items() {
    let spec: tensorbench_schema::WorkloadSpec =
        WorkloadSpec::new("t", "add", "scalar", DType::F32).param("n", 4);
    assert_eq!(
        blank_measurement(&spec, CacheMode::Hot),
        Measurement::blank(&spec, CacheMode::Hot)
    );
    let m = skipped(&spec, CacheMode::Hot, "why");
    assert_eq!(
        (m.status, m.reason.as_deref()),
        (Status::Skipped, Some("why"))
    );
    let _: tensorbench_schema::schema::ClockSource = ClockSource::Host;
    let _: tensorbench_schema::Event = Event::Done {
        id: m.id,
        status: Status::Ok,
    };
    assert_eq!(SCHEMA_VERSION, tensorbench_schema::schema::SCHEMA_VERSION);
    assert_eq!(compute_key(DType::F32), COMPUTE_KEY);
    assert!(classify(&Peaks::new(), "cpu", DType::F32, 1.0, 1.0, 1.0).is_none());
    assert!(!BANDWIDTH_KEY.is_empty());
    assert_eq!(summarize(&[1.0, 2.0, 3.0], 0.95).unwrap().median_ns, 2.0);
    assert_eq!(machine_slug(Some("a.b")), "a_b");
}

#[test]
fn run_file_errors_convert_into_cores_error_keeping_the_message() {
    fn read(path: &Path) -> tensorbench_core::Result<()> {
        parse_run("{\"schema_version\": 1}", path)?;
        Ok(())
    }
    let e = read(Path::new("broken.json")).unwrap_err();
    assert!(matches!(e, tensorbench_core::Error::Schema(_)), "{e:?}");
    assert!(e.to_string().contains("broken.json"), "{e}");
    let missing: tensorbench_core::Error = load_run(Path::new("nope.json")).unwrap_err().into();
    assert!(missing.to_string().contains("nope.json"), "{missing}");
}
