//! Child processes that cannot hang us or outlive us: each runs in its own process group with a
//! deadline, and is stopped as a group (SIGTERM, a grace period, SIGKILL), so what it started
//! (Chromium's renderers, a shell's `sleep`) goes with it. Live groups are registered, so a
//! signal handler can stop them all before the process exits ([`signal_all`]).

use crate::error::{Error, Result};
use std::io::Read;
use std::os::unix::process::CommandExt as _;
use std::process::{Child, Command, ExitStatus, Output, Stdio};
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How long a group has between SIGTERM and SIGKILL.
pub const GRACE: Duration = Duration::from_secs(2);

/// The process groups of every live [`Group`] (their leaders' pids).
static LIVE: Mutex<Vec<u32>> = Mutex::new(Vec::new());

/// A child in a process group of its own, stopped with everything in that group when dropped.
#[derive(Debug)]
pub struct Group {
    child: Child,
    what: String,
    stopped: bool,
}

impl Group {
    /// Starts `cmd` as the leader of a new process group; `what` names it in errors (`node`).
    pub fn spawn(cmd: &mut Command, what: impl Into<String>) -> Result<Self> {
        let what = what.into();
        let child = cmd
            .process_group(0)
            .spawn()
            .map_err(|source| Error::Spawn {
                what: what.clone(),
                source,
            })?;
        live().push(child.id());
        Ok(Self {
            child,
            what,
            stopped: false,
        })
    }

    /// The child, e.g. to take its pipes.
    pub fn child(&mut self) -> &mut Child {
        &mut self.child
    }

    /// Waits for the child to exit, at most `limit`; past it the group is stopped and the
    /// answer is [`Error::TimedOut`]. Whatever the child left running in its group is stopped
    /// either way.
    pub fn wait_within(&mut self, limit: Duration) -> Result<ExitStatus> {
        let until = Instant::now() + limit;
        loop {
            match self.child.try_wait() {
                Ok(Some(status)) => {
                    self.terminate();
                    return Ok(status);
                }
                Ok(None) if Instant::now() >= until => {
                    self.terminate();
                    return Err(Error::TimedOut {
                        what: self.what.clone(),
                        limit,
                    });
                }
                Ok(None) => std::thread::sleep(Duration::from_millis(20)),
                Err(source) => {
                    self.terminate();
                    return Err(Error::Spawn {
                        what: self.what.clone(),
                        source,
                    });
                }
            }
        }
    }

    /// Stops the group: SIGTERM, up to [`GRACE`] for the leader to exit, then SIGKILL to
    /// whatever is left; reaps the leader. Idempotent.
    pub fn terminate(&mut self) {
        if self.stopped {
            return;
        }
        self.stopped = true;
        let pgid = self.child.id();
        if matches!(self.child.try_wait(), Ok(None)) {
            signal_group(pgid, libc::SIGTERM);
            let until = Instant::now() + GRACE;
            while matches!(self.child.try_wait(), Ok(None)) && Instant::now() < until {
                std::thread::sleep(Duration::from_millis(20));
            }
        }
        signal_group(pgid, libc::SIGKILL);
        let _ = self.child.wait();
        live().retain(|&p| p != pgid);
    }
}

impl Drop for Group {
    fn drop(&mut self) {
        self.terminate();
    }
}

/// Runs `cmd` to completion within `limit`, capturing stdout (stderr as `cmd` says), stopped as
/// a group past it.
pub fn output_within(cmd: &mut Command, what: &str, limit: Duration) -> Result<Output> {
    let mut group = Group::spawn(cmd.stdout(Stdio::piped()), what)?;
    let stdout = group.child().stdout.take();
    let stderr = group.child().stderr.take();
    let read = |pipe: Option<Box<dyn Read + Send>>| {
        std::thread::spawn(move || {
            let mut bytes = Vec::new();
            if let Some(mut p) = pipe {
                let _ = p.read_to_end(&mut bytes);
            }
            bytes
        })
    };
    let out = read(stdout.map(|p| Box::new(p) as _));
    let err = read(stderr.map(|p| Box::new(p) as _));
    let status = group.wait_within(limit)?;
    Ok(Output {
        status,
        stdout: out.join().unwrap_or_default(),
        stderr: err.join().unwrap_or_default(),
    })
}

/// Runs `cmd` to completion within `limit`, stopped as a group past it.
pub fn status_within(cmd: &mut Command, what: &str, limit: Duration) -> Result<ExitStatus> {
    Group::spawn(cmd, what)?.wait_within(limit)
}

/// A signal's name as users know it, with its number (`SIGSEGV (11)`): for the reason of a
/// workload whose process it killed.
pub fn signal_name(signal: i32) -> String {
    let name = match signal {
        libc::SIGILL => "SIGILL",
        libc::SIGABRT => "SIGABRT",
        libc::SIGBUS => "SIGBUS",
        libc::SIGFPE => "SIGFPE",
        libc::SIGKILL => "SIGKILL (the OOM killer, or another process)",
        libc::SIGSEGV => "SIGSEGV",
        libc::SIGTERM => "SIGTERM",
        _ => "signal",
    };
    format!("{name} ({signal})")
}

/// How a child ended, for a message: `exited 3`, or `was killed by SIGSEGV (11)`.
pub fn describe_exit(status: ExitStatus) -> String {
    use std::os::unix::process::ExitStatusExt as _;
    match (status.code(), status.signal()) {
        (Some(code), _) => format!("exited {code}"),
        (None, Some(signal)) => format!("was killed by {}", signal_name(signal)),
        (None, None) => "ended".into(),
    }
}

/// Sends `signal` to every live [`Group`] (for a signal handler about to exit).
pub fn signal_all(signal: i32) {
    for &pgid in live().iter() {
        signal_group(pgid, signal);
    }
}

/// Whether any [`Group`] is live.
pub fn any_live() -> bool {
    !live().is_empty()
}

/// Sends `signal` to process group `pgid`.
pub fn signal_group(pgid: u32, signal: i32) {
    let Ok(pgid) = i32::try_from(pgid) else {
        return;
    };
    if pgid > 0 {
        // SAFETY: kill(2) takes plain integers; a negative pid names a process group.
        unsafe { libc::kill(-pgid, signal) };
    }
}

/// SIGKILLs `pid`, everything descended from it and every process group they lead or belong
/// to. For children that make process groups of their own (Open MPI's ranks, a wasm host's
/// Chromium), which killing one group would miss; the tree is read before anything is killed,
/// while orphans still point at their parents.
pub fn kill_tree(pid: u32) {
    // Twice: a process may have forked while the first pass was killing.
    for _ in 0..2 {
        let tree = descendants(pid);
        for &(p, pgid) in &tree {
            signal_group(pgid, libc::SIGKILL);
            if let Ok(p) = i32::try_from(p) {
                // SAFETY: as in `signal_group`.
                unsafe { libc::kill(p, libc::SIGKILL) };
            }
        }
    }
}

/// `root` and its descendants, each with its process group, from `/proc`.
fn descendants(root: u32) -> Vec<(u32, u32)> {
    let procs: Vec<(u32, u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| e.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| {
            let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
            // `pid (comm) state ppid pgrp ...`; comm may hold spaces and parentheses.
            let rest = stat.get(stat.rfind(')')? + 1..)?;
            let mut fields = rest.split_whitespace().skip(1);
            let ppid = fields.next()?.parse().ok()?;
            let pgrp = fields.next()?.parse().ok()?;
            Some((pid, ppid, pgrp))
        })
        .collect();
    let mut tree: Vec<(u32, u32)> = procs
        .iter()
        .filter(|p| p.0 == root)
        .map(|p| (p.0, p.2))
        .collect();
    let mut i = 0;
    while i < tree.len() {
        let parent = tree[i].0;
        tree.extend(procs.iter().filter(|p| p.1 == parent).map(|p| (p.0, p.2)));
        i += 1;
    }
    tree
}

fn live() -> std::sync::MutexGuard<'static, Vec<u32>> {
    LIVE.lock().unwrap_or_else(|e| e.into_inner())
}

#[cfg(test)]
mod tests;
