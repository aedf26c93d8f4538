//! A suite binary started with `--serve`: one JSON request per line on its stdin, one reply per
//! line on its stdout, each with a deadline so a stalled build cannot stall `ab`.

use super::rounds::Plan;
use anyhow::{Context, Result};
use std::io::{BufRead, BufReader, Write};
use std::path::Path;
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::mpsc::{self, Receiver, RecvTimeoutError};
use std::time::Duration;
use tensorbench_core::serve::{Reply, Request};

/// Why a request got no reply.
#[derive(Debug, thiserror::Error)]
pub enum ServerError {
    #[error("{0}: no reply within {1:?}")]
    TimedOut(String, Duration),
    #[error("{0}: the suite exited ({1})")]
    Exited(String, String),
}

pub struct Server {
    label: String,
    child: Child,
    stdin: Option<ChildStdin>,
    replies: Receiver<String>,
    timeout: Duration,
}

impl Server {
    /// Starts `binary --serve ARGS` in its own process group.
    pub fn start(label: &str, binary: &Path, plan: &Plan) -> Result<Self> {
        use std::os::unix::process::CommandExt as _;
        let mut child = Command::new(binary)
            .arg("--serve")
            .args(&plan.args)
            .envs(plan.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .process_group(0)
            .spawn()
            .with_context(|| format!("starting {label}'s suite {}", binary.display()))?;
        let stdout = child.stdout.take().context("child stdout")?;
        let (tx, replies) = mpsc::channel();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines() {
                let Ok(line) = line else { break };
                if tx.send(line).is_err() {
                    break;
                }
            }
        });
        Ok(Self {
            label: label.to_string(),
            stdin: child.stdin.take(),
            child,
            replies,
            timeout: plan.timeout,
        })
    }

    /// Sends `req` and waits for its reply. Lines that are not replies (a library's own output)
    /// are passed to stderr.
    pub fn ask(&mut self, req: &Request) -> Result<Reply, ServerError> {
        let line = serde_json::to_string(req).expect("requests serialise");
        let sent = self
            .stdin
            .as_mut()
            .map(|s| writeln!(s, "{line}").and_then(|()| s.flush()));
        if !matches!(sent, Some(Ok(()))) {
            return Err(self.exited());
        }
        loop {
            match self.replies.recv_timeout(self.timeout) {
                Ok(text) => match serde_json::from_str::<Reply>(&text) {
                    Ok(reply) => return Ok(reply),
                    Err(_) => eprintln!("[{}] {text}", self.label),
                },
                Err(RecvTimeoutError::Timeout) => {
                    self.kill();
                    return Err(ServerError::TimedOut(self.label.clone(), self.timeout));
                }
                Err(RecvTimeoutError::Disconnected) => return Err(self.exited()),
            }
        }
    }

    /// Runs every thread of the server on `cpus` only. Both sides of a single-threaded id are
    /// pinned to one drawn CPU: on a VM each vCPU is stolen from at its own rate, and a process
    /// tends to stay on the vCPU it last ran on, so unpinned the two sides would each inherit
    /// "their" vCPU's steal for the whole round (measured: round ratios of 0.87–1.29 in an A/A).
    pub fn pin(&self, cpus: &[usize]) {
        // SAFETY: cpu_set_t is plain data; zeroed is the empty set.
        let mut set: libc::cpu_set_t = unsafe { std::mem::zeroed() };
        for &c in cpus {
            // SAFETY: `set` is a valid cpu_set_t and CPU_SET bounds-checks `c`.
            unsafe { libc::CPU_SET(c, &mut set) };
        }
        let tasks = std::fs::read_dir(format!("/proc/{}/task", self.child.id()));
        for tid in tasks.into_iter().flatten().flatten() {
            let Some(tid) = tid.file_name().to_str().and_then(|t| t.parse::<i32>().ok()) else {
                continue;
            };
            // SAFETY: a valid set of the size passed; a thread that has exited just fails.
            unsafe { libc::sched_setaffinity(tid, std::mem::size_of_val(&set), &set) };
        }
    }

    fn exited(&mut self) -> ServerError {
        let status = self
            .child
            .wait()
            .map_or_else(|e| e.to_string(), |s| s.to_string());
        ServerError::Exited(self.label.clone(), status)
    }

    /// Closes its stdin (it then exits) and waits a little, then kills its group.
    pub fn shut_down(mut self) {
        drop(self.stdin.take());
        for _ in 0..50 {
            if matches!(self.child.try_wait(), Ok(Some(_))) {
                return;
            }
            std::thread::sleep(Duration::from_millis(20));
        }
        self.kill();
    }

    fn kill(&mut self) {
        // The group: whatever the suite started goes too.
        let _ = Command::new("kill")
            .args(["-KILL", &format!("-{}", self.child.id())])
            .status();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        if matches!(self.child.try_wait(), Ok(None)) {
            self.kill();
        }
    }
}
