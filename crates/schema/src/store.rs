//! Run files on disk. A run is streamed as JSON Lines while it goes (`<run-id>.jsonl`: a header,
//! then one record per finished measurement), so a crash or `kill -9` keeps every finished
//! measurement; when the run ends, the whole run is written to `<run-id>.json` through a temporary
//! file and an atomic rename, and the stream is removed. Readers accept either form.

use crate::schema::{Measurement, Roofline, Run, RunStatus, SCHEMA_VERSION};
/// What the functions here fail with, reachable as `store::Error` from re-exports too.
pub use crate::{Error, Result};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, Write};
use std::path::{Path, PathBuf};

/// One line of a run stream.
#[derive(Debug, Serialize, Deserialize, schemars::JsonSchema)]
#[serde(tag = "record", rename_all = "snake_case")]
pub enum Record {
    /// The run's metadata; its `measurements` are empty.
    Header(Box<Run>),
    /// Ceilings measured by a probe: device → name → value.
    Peaks {
        /// The device the ceilings are of.
        device: String,
        /// Ceiling name → value.
        values: BTreeMap<String, f64>,
    },
    /// One finished measurement.
    Measurement(Box<Measurement>),
    /// A recorded measurement placed again, under ceilings a later probe raised (the probes
    /// measured again at the end of a run whose results beat them).
    Placement {
        /// The measurement's id.
        id: String,
        /// Its new placement.
        roofline: Option<Box<Roofline>>,
    },
    /// The run is over: the stream is complete.
    End {
        /// How the run ended.
        status: RunStatus,
        /// When it ended, RFC 3339, UTC.
        finished_at: String,
    },
}

/// Streams one run to `dir/<run-id>.jsonl` and finishes it as `dir/<run-id>.json`.
#[derive(Debug)]
pub struct RunWriter {
    run: Run,
    stream_path: PathBuf,
    final_path: PathBuf,
    stream: File,
}

impl RunWriter {
    /// Creates the stream file; fails rather than overwrite an existing run.
    pub fn create(dir: &Path, run: Run) -> Result<Self> {
        std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
        let stream_path = dir.join(format!("{}.jsonl", run.run_id));
        let final_path = dir.join(format!("{}.json", run.run_id));
        if final_path.exists() {
            return Err(Error::io(
                &final_path,
                std::io::Error::new(std::io::ErrorKind::AlreadyExists, "run file already exists"),
            ));
        }
        let stream = OpenOptions::new()
            .create_new(true)
            .append(true)
            .open(&stream_path)
            .map_err(|e| Error::io(&stream_path, e))?;
        let mut w = Self {
            run: Run {
                measurements: Vec::new(),
                ..run
            },
            stream_path,
            final_path,
            stream,
        };
        w.append(&Record::Header(Box::new(w.run.clone())))?;
        Ok(w)
    }

    /// Reopens an interrupted stream to carry it on (`--resume`); returns the writer and the run
    /// as far as it got.
    pub fn resume(stream_path: &Path) -> Result<Self> {
        let mut run = read_stream(stream_path)?;
        run.status = RunStatus::Running;
        run.finished_at = None;
        let mut stream = OpenOptions::new()
            .read(true)
            .append(true)
            .open(stream_path)
            .map_err(|e| Error::io(stream_path, e))?;
        cut_torn_tail(&mut stream).map_err(|e| Error::io(stream_path, e))?;
        Ok(Self {
            final_path: stream_path.with_extension("json"),
            stream_path: stream_path.to_path_buf(),
            run,
            stream,
        })
    }

    /// The run as written so far.
    pub fn run(&self) -> &Run {
        &self.run
    }

    /// Where the `.jsonl` stream is.
    pub fn stream_path(&self) -> &Path {
        &self.stream_path
    }

    /// Where the finished `.json` run file goes.
    pub fn final_path(&self) -> &Path {
        &self.final_path
    }

    fn append(&mut self, record: &Record) -> Result<()> {
        let mut line = serde_json::to_vec(record)?;
        line.push(b'\n');
        // One write per record; a crash mid-write leaves at most one torn last line, which readers drop.
        self.stream
            .write_all(&line)
            .and_then(|_| self.stream.flush())
            .map_err(|e| Error::io(&self.stream_path, e))
    }

    /// Adds ceilings of `device` to the run and appends them to the stream.
    pub fn record_peaks(&mut self, device: &str, values: BTreeMap<String, f64>) -> Result<()> {
        self.run
            .peaks
            .entry(device.to_string())
            .or_default()
            .extend(values.clone());
        self.append(&Record::Peaks {
            device: device.to_string(),
            values,
        })
    }

    /// Adds a measurement to the run and appends it to the stream.
    pub fn record(&mut self, m: Measurement) -> Result<()> {
        self.append(&Record::Measurement(Box::new(m.clone())))?;
        self.run.measurements.push(m);
        Ok(())
    }

    /// Places the recorded measurement `id` again (see [`Record::Placement`]).
    pub fn place(&mut self, id: &str, roofline: Option<Roofline>) -> Result<()> {
        self.append(&Record::Placement {
            id: id.to_string(),
            roofline: roofline.clone().map(Box::new),
        })?;
        apply_placement(&mut self.run, id, roofline);
        Ok(())
    }

    /// Writes the whole run atomically to `<run-id>.json`, then removes the stream.
    pub fn finish(mut self, status: RunStatus) -> Result<PathBuf> {
        let finished_at = now_rfc3339();
        self.append(&Record::End {
            status,
            finished_at: finished_at.clone(),
        })?;
        self.run.status = status;
        self.run.finished_at = Some(finished_at);
        write_json_atomic(&self.final_path, &self.run)?;
        std::fs::remove_file(&self.stream_path).map_err(|e| Error::io(&self.stream_path, e))?;
        Ok(self.final_path)
    }
}

/// Drops a torn last line (a crash, full disk or kill mid-write) so the next record starts on a
/// line of its own, and ends a complete last line that lacks its newline. Without this a record
/// appended on resume is glued onto the torn bytes and the whole stream stops parsing.
fn cut_torn_tail(stream: &mut File) -> std::io::Result<()> {
    use std::io::{Read, Seek};
    let mut bytes = Vec::new();
    stream.rewind()?;
    stream.read_to_end(&mut bytes)?;
    let start = bytes[..bytes.len().saturating_sub(1)]
        .iter()
        .rposition(|&b| b == b'\n')
        .map_or(0, |i| i + 1);
    let last = &bytes[start..];
    if last.is_empty() {
        return Ok(());
    }
    let whole = serde_json::from_slice::<Record>(last.strip_suffix(b"\n").unwrap_or(last)).is_ok();
    match (whole, last.ends_with(b"\n")) {
        (true, true) => Ok(()),
        (true, false) => stream.write_all(b"\n"),
        // Never the header: a stream whose only line is torn did not parse as a run at all.
        (false, _) => stream.set_len(start as u64),
    }?;
    stream.sync_data()
}

/// Writes `value` as pretty JSON to `path` via a temporary file in the same directory and a rename,
/// so readers never see a half-written file and an existing file is replaced only when complete.
pub fn write_json_atomic<T: Serialize>(path: &Path, value: &T) -> Result<()> {
    let dir = path.parent().unwrap_or(Path::new("."));
    std::fs::create_dir_all(dir).map_err(|e| Error::io(dir, e))?;
    let tmp = dir.join(format!(
        ".{}.{}.tmp",
        path.file_name().and_then(|n| n.to_str()).unwrap_or("run"),
        std::process::id()
    ));
    let body = serde_json::to_vec_pretty(value)?;
    // Data on disk before the rename makes it visible: a crash then leaves the old file or the
    // new one, never an empty new one.
    File::create(&tmp)
        .and_then(|mut f| f.write_all(&body).and_then(|_| f.sync_all()))
        .map_err(|e| Error::io(&tmp, e))?;
    std::fs::rename(&tmp, path).map_err(|e| Error::io(path, e))?;
    // And the rename itself (best effort: not every file system lets a directory be synced).
    let _ = File::open(dir).and_then(|d| d.sync_all());
    Ok(())
}

/// Reads a run from a `.json` run file or a `.jsonl` stream (an interrupted run), checking the
/// schema version and naming the file and the field at fault on error.
pub fn load_run(path: &Path) -> Result<Run> {
    if path.extension().is_some_and(|e| e == "jsonl") {
        return read_stream(path);
    }
    let text = std::fs::read_to_string(path).map_err(|e| Error::io(path, e))?;
    parse_run(&text, path)
}

/// Parses run-file text; `path` only names the source in errors.
pub fn parse_run(text: &str, path: &Path) -> Result<Run> {
    let bad = |reason: String| Error::BadRunFile {
        path: path.to_path_buf(),
        reason,
    };
    if text.trim().is_empty() {
        return Err(bad("the file is empty".into()));
    }
    let value: serde_json::Value =
        serde_json::from_str(text).map_err(|e| bad(format!("not JSON ({e}); truncated?")))?;
    check_schema_version(&value, path)?;
    serde_path_to_error::deserialize(value)
        .map_err(|e| bad(format!("field `{}`: {}", e.path(), e.inner())))
}

fn check_schema_version(value: &serde_json::Value, path: &Path) -> Result<()> {
    let found = value
        .get("schema_version")
        .ok_or_else(|| Error::BadRunFile {
            path: path.to_path_buf(),
            reason: "field `schema_version` is missing: not a tensorbench run file".into(),
        })?
        .as_u64()
        .ok_or_else(|| Error::BadRunFile {
            path: path.to_path_buf(),
            reason: "field `schema_version` is not a non-negative integer".into(),
        })?;
    if found != u64::from(SCHEMA_VERSION) {
        return Err(Error::SchemaVersion {
            path: path.to_path_buf(),
            found,
            supported: SCHEMA_VERSION,
        });
    }
    Ok(())
}

/// Rebuilds a run from its stream. A torn last line (a crash mid-write) is dropped; a bad line
/// anywhere else is an error naming its line number. A stream with no `end` record is `interrupted`.
pub fn read_stream(path: &Path) -> Result<Run> {
    let file = File::open(path).map_err(|e| Error::io(path, e))?;
    let lines: Vec<String> = BufReader::new(file)
        .lines()
        .collect::<std::io::Result<_>>()
        .map_err(|e| Error::io(path, e))?;
    let bad = |line: usize, reason: String| Error::BadRunFile {
        path: path.to_path_buf(),
        reason: format!("line {line}: {reason}"),
    };
    let mut run: Option<Run> = None;
    let mut ended = false;
    for (i, line) in lines.iter().enumerate() {
        let last = i + 1 == lines.len();
        let record: Record = match serde_json::from_str(line) {
            Ok(r) => r,
            Err(_) if last && run.is_some() => break,
            Err(e) => return Err(bad(i + 1, e.to_string())),
        };
        match (record, run.as_mut()) {
            (Record::Header(h), None) => {
                if h.schema_version != SCHEMA_VERSION {
                    return Err(Error::SchemaVersion {
                        path: path.to_path_buf(),
                        found: h.schema_version.into(),
                        supported: SCHEMA_VERSION,
                    });
                }
                run = Some(*h);
            }
            (Record::Header(_), Some(_)) => return Err(bad(i + 1, "second header".into())),
            (_, None) => return Err(bad(i + 1, "record before the header".into())),
            (Record::Peaks { device, values }, Some(r)) => {
                r.peaks.entry(device).or_default().extend(values)
            }
            (Record::Measurement(m), Some(r)) => r.measurements.push(*m),
            (Record::Placement { id, roofline }, Some(r)) => {
                apply_placement(r, &id, roofline.map(|b| *b))
            }
            (
                Record::End {
                    status,
                    finished_at,
                },
                Some(r),
            ) => {
                r.status = status;
                r.finished_at = Some(finished_at);
                ended = true;
            }
        }
    }
    let mut run = run.ok_or_else(|| bad(1, "no header record: empty stream".into()))?;
    if !ended {
        run.status = RunStatus::Interrupted;
    }
    Ok(run)
}

fn apply_placement(run: &mut Run, id: &str, roofline: Option<Roofline>) {
    if let Some(m) = run.measurements.iter_mut().rev().find(|m| m.id == id) {
        m.roofline = roofline;
    }
}

/// The current UTC time as RFC 3339.
pub fn now_rfc3339() -> String {
    rfc3339_at(std::time::SystemTime::now())
}

/// A point in time (e.g. a file's modification time) as RFC 3339, UTC.
pub fn rfc3339_at(t: std::time::SystemTime) -> String {
    chrono::DateTime::<chrono::Utc>::from(t).to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// A run id that sorts by time and does not collide between concurrent runs:
/// `2026-11-22T11-20-03Z-cpu-3f2a9c`.
pub fn new_run_id(target: &str) -> String {
    run_id_at(std::time::SystemTime::now(), target)
}

/// A run id for a run that took place at `t` (an imported one keeps its own time).
pub fn run_id_at(t: std::time::SystemTime, target: &str) -> String {
    let at = chrono::DateTime::<chrono::Utc>::from(t);
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    let salt = u64::from(nanos) ^ u64::from(std::process::id()) << 20;
    format!(
        "{}-{}-{:06x}",
        at.format("%Y-%m-%dT%H-%M-%SZ"),
        target,
        salt & 0xff_ffff
    )
}

/// A file-system-safe name for the machine, used as the results sub-directory.
pub fn machine_slug(hostname: Option<&str>) -> String {
    let raw = hostname.unwrap_or("unknown-host");
    let slug: String = raw
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' {
                c
            } else {
                '_'
            }
        })
        .collect();
    if slug.is_empty() {
        "unknown-host".into()
    } else {
        slug
    }
}
