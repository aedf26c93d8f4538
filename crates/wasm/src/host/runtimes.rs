//! The runtimes a module runs in: Node (a driver script), headless Chromium (a page of ours served
//! from a loopback server, which posts its reply back) and wasmtime (embedded). All reply with the
//! same protocol, one JSON object a line (`js/harness.mjs`), streamed as workloads finish.

use super::Missing;
use super::build::{Abi, Module};
use anyhow::{Context, Result, anyhow, bail};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::ops::ControlFlow;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, mpsc};
use std::time::Duration;
use tensorbench_core::child::{self, Group};

/// How long `--version` may take: a runtime that cannot say it is a missing one.
const VERSION_LIMIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Runtime {
    Node,
    Chromium,
    /// Embedded (cargo feature `wasmtime`); runs the C-ABI module.
    Wasmtime,
}

impl Runtime {
    pub const ALL: [Runtime; 3] = [Runtime::Node, Runtime::Chromium, Runtime::Wasmtime];

    pub fn name(self) -> &'static str {
        match self {
            Runtime::Node => "node",
            Runtime::Chromium => "chromium",
            Runtime::Wasmtime => "wasmtime",
        }
    }

    /// The ABI of the module this runtime loads.
    pub fn abi(self) -> Abi {
        match self {
            Runtime::Wasmtime => Abi::Cabi,
            _ => Abi::Bindgen,
        }
    }

    pub fn parse(name: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|r| r.name() == name)
    }

    fn install(self) -> &'static str {
        match self {
            Runtime::Node => "apt-get install -y nodejs",
            Runtime::Chromium => "apt-get install -y chromium",
            Runtime::Wasmtime => {
                "build tensorbench-wasm with `--features wasmtime` \
                 (`cargo xtask bench --target wasm --runtime wasmtime` does)"
            }
        }
    }
}

/// A runtime found on this machine.
#[derive(Debug, Clone)]
pub struct Found {
    pub runtime: Runtime,
    pub binary: PathBuf,
    /// e.g. `20.20.2`, `156.0.8078.79`.
    pub version: String,
}

impl Found {
    /// What measurements record as their device, e.g. `node 20.20.2`.
    pub fn device(&self) -> String {
        format!("{} {}", self.runtime.name(), self.version)
    }
}

/// Finds `runtime` (`$TENSORBENCH_NODE` / `$TENSORBENCH_CHROMIUM`, else the usual names on `PATH`) and its version.
pub fn detect(runtime: Runtime) -> std::result::Result<Found, Missing> {
    let missing = || Missing {
        what: runtime.name().to_string(),
        install: runtime.install().to_string(),
    };
    let (var, names): (&str, &[&str]) = match runtime {
        #[cfg(feature = "wasmtime")]
        Runtime::Wasmtime => {
            return Ok(Found {
                runtime,
                binary: PathBuf::new(),
                version: super::wasmtime_rt::version().to_string(),
            });
        }
        #[cfg(not(feature = "wasmtime"))]
        Runtime::Wasmtime => return Err(missing()),
        Runtime::Node => ("TENSORBENCH_NODE", &["node", "nodejs"]),
        Runtime::Chromium => (
            "TENSORBENCH_CHROMIUM",
            &[
                "chromium",
                "chromium-browser",
                "google-chrome",
                "google-chrome-stable",
            ],
        ),
    };
    let binary = std::env::var_os(var)
        .map(PathBuf::from)
        .or_else(|| on_path(names))
        .ok_or_else(missing)?;
    let mut version = Command::new(&binary);
    version.arg("--version").stdin(Stdio::null());
    let what = format!("{} --version", binary.display());
    let out = child::output_within(&mut version, &what, VERSION_LIMIT).map_err(|_| missing())?;
    let text = String::from_utf8_lossy(&out.stdout);
    // `v20.20.2`; `Chromium 156.0.8078.79 built on Debian ...`.
    let version = text
        .split_whitespace()
        .find(|w| {
            w.trim_start_matches('v')
                .starts_with(|c: char| c.is_ascii_digit())
        })
        .map(|w| w.trim_start_matches('v').to_string())
        .ok_or_else(missing)?;
    Ok(Found {
        runtime,
        binary,
        version,
    })
}

fn on_path(names: &[&str]) -> Option<PathBuf> {
    let path = std::env::var_os("PATH")?;
    names
        .iter()
        .flat_map(|n| std::env::split_paths(&path).map(move |d| d.join(n)))
        .find(|p| p.is_file())
}

/// Runs `request` against `module` in `found` and gathers the whole reply into one object: the
/// kernel checks' reply as it is, or the suite's `ready` facts with `measurements` and the last
/// `memory_bytes`. The reply's `error`, if any, becomes an error.
pub fn execute(
    found: &Found,
    module: &Module,
    request: &Value,
    timeout: Duration,
) -> Result<Value> {
    let mut reply = serde_json::Map::new();
    let mut measurements = Vec::new();
    stream(found, module, request, timeout, &mut |line| {
        if let Some(Value::Object(ready)) = line.get("ready") {
            reply.extend(ready.clone());
        } else if let Some(m) = line.get("measurement") {
            measurements.push(m.clone());
            reply.insert("memory_bytes".into(), line["memory_bytes"].clone());
        } else if let Value::Object(whole) = line {
            reply.extend(whole);
        }
        ControlFlow::Continue(())
    })?;
    if !measurements.is_empty() {
        reply.insert("measurements".into(), measurements.into());
    }
    Ok(Value::Object(reply))
}

/// Runs `request` against `module` in `found`, handing `on_line` each line of the reply as it
/// arrives, until the reply ends, `on_line` breaks, or nothing arrives for `idle`. An `error`
/// line, a runtime that dies before the end, or silence past `idle` is an error; the runtime
/// is stopped in every case.
pub fn stream(
    found: &Found,
    module: &Module,
    request: &Value,
    idle: Duration,
    on_line: &mut dyn FnMut(Value) -> ControlFlow<()>,
) -> Result<()> {
    let who = found.device();
    let mut on_line = |v: Value| -> Result<ControlFlow<()>> {
        if let Some(e) = v.get("error") {
            bail!("{who} reported: {}", e.as_str().unwrap_or_default());
        }
        let last = v.get("end").is_some() || v.get("outputs").is_some();
        Ok(match on_line(v) {
            ControlFlow::Continue(()) if !last => ControlFlow::Continue(()),
            _ => ControlFlow::Break(()),
        })
    };
    match found.runtime {
        Runtime::Node => stream_node(&found.binary, module, request, idle, &mut on_line),
        Runtime::Chromium => {
            stream_chromium(&found.binary, &module.dir, request, idle, &mut on_line)
        }
        #[cfg(feature = "wasmtime")]
        Runtime::Wasmtime => super::wasmtime_rt::stream(&module.wasm, request, idle, &mut on_line),
        #[cfg(not(feature = "wasmtime"))]
        Runtime::Wasmtime => bail!("this build has no wasmtime (cargo feature `wasmtime`)"),
    }
}

/// What a runtime's reply line asks of the reader: go on, or stop (the reply ended or the
/// caller has enough); an error ends it too.
pub(crate) type OnLine<'a> = dyn FnMut(Value) -> Result<ControlFlow<()>> + 'a;

/// Reads lines from `rx` until `on_line` stops, the sender goes away (`gone` says why) or
/// nothing comes for `idle`.
fn pump(
    rx: &mpsc::Receiver<Value>,
    idle: Duration,
    on_line: &mut OnLine<'_>,
    gone: impl FnOnce() -> anyhow::Error,
) -> Result<()> {
    loop {
        match rx.recv_timeout(idle) {
            Ok(v) => {
                if on_line(v)?.is_break() {
                    return Ok(());
                }
            }
            Err(mpsc::RecvTimeoutError::Timeout) => bail!("no reply for {idle:?}; stopped it"),
            Err(mpsc::RecvTimeoutError::Disconnected) => return Err(gone()),
        }
    }
}

fn stream_node(
    node: &Path,
    module: &Module,
    request: &Value,
    idle: Duration,
    on_line: &mut OnLine<'_>,
) -> Result<()> {
    let mut cmd = Command::new(node);
    cmd.arg(module.dir.join("node_driver.mjs"))
        .arg(request.to_string())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    // Its own process group, stopped as one (`Group`'s drop too, on every way out of here).
    let mut child = Group::spawn(&mut cmd, "node")?;
    let stdout = child.child().stdout.take().context("node's stdout")?;
    let mut stderr = child.child().stderr.take().context("node's stderr")?;
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout)
            .lines()
            .map_while(std::result::Result::ok)
        {
            if let Ok(v) = serde_json::from_str::<Value>(&line)
                && tx.send(v).is_err()
            {
                return;
            }
        }
    });
    let errors = std::thread::spawn(move || {
        let mut text = String::new();
        let _ = stderr.read_to_string(&mut text);
        text
    });
    let result = pump(&rx, idle, on_line, || {
        // Its stdout closed: it has exited, or is about to. How it ended (a signal named) is
        // the measurement's reason.
        match child.wait_within(tensorbench_core::child::GRACE) {
            Ok(status) => anyhow!(
                "node {} before its reply ended",
                tensorbench_core::child::describe_exit(status)
            ),
            Err(_) => anyhow!("node closed its output before its reply ended"),
        }
    });
    child.terminate();
    result.map_err(|e| match errors.join() {
        Ok(text) if !text.trim().is_empty() => e.context(format!("node's stderr:\n{text}")),
        _ => e,
    })
}

/// Serves `dir` on a loopback port (cross-origin isolated, so `performance.now()` gets the
/// browser's finest resolution), opens the page headless and reads what it posts back.
fn stream_chromium(
    binary: &Path,
    dir: &Path,
    request: &Value,
    idle: Duration,
    on_line: &mut OnLine<'_>,
) -> Result<()> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
    let port = listener.local_addr()?.port();
    let token = run_token();
    let server = Server::start(listener, dir, request, &token);
    // Declared before the browser, so it is removed after the browser is stopped.
    let profile = tempfile::Builder::new()
        .prefix("tensorbench-chromium-")
        .tempdir()?;
    let mut cmd = Command::new(binary);
    cmd.args([
        "--headless",
        "--no-sandbox",
        "--disable-gpu",
        "--no-first-run",
        "--no-default-browser-check",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--disable-extensions",
        "--disable-background-timer-throttling",
        "--disable-renderer-backgrounding",
    ])
    .arg(format!("--user-data-dir={}", profile.path().display()))
    .arg(format!("http://127.0.0.1:{port}/page.html?token={token}"))
    .stdin(Stdio::null())
    .stdout(Stdio::null())
    .stderr(Stdio::null());
    // Its renderers and helpers share its process group, and go with it.
    let mut child = Group::spawn(&mut cmd, binary.display().to_string())?;
    let result = pump(&server.replies, idle, on_line, || {
        anyhow!("the page's server stopped")
    });
    child.terminate();
    server.stop(port);
    drop(profile);
    result
}

/// A token only this run's page knows: the server answers the request and takes replies only
/// from a client that presents it, so nothing else on the machine can feed the run.
fn run_token() -> String {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(
        std::time::SystemTime::now()
            .duration_since(std::time::UNIX_EPOCH)
            .map_or(0, |d| d.as_nanos()),
    );
    h.write_u32(std::process::id());
    format!("{:016x}", h.finish())
}

/// The largest reply body the server reads: a suite's measurement with its raw samples is far
/// below it; a client that announces more is refused, never allocated for.
const MAX_BODY_BYTES: usize = 64 << 20;

/// The page's loopback server: files of `dir`, the request, and the replies posted back.
struct Server {
    replies: mpsc::Receiver<Value>,
    stopping: Arc<AtomicBool>,
}

impl Server {
    fn start(listener: TcpListener, dir: &Path, request: &Value, token: &str) -> Self {
        let (tx, replies) = mpsc::channel::<Value>();
        let stopping = Arc::new(AtomicBool::new(false));
        let page = Arc::new(Page {
            dir: dir.to_path_buf(),
            request: request.to_string(),
            token: token.to_string(),
        });
        let stop = stopping.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().map_while(std::result::Result::ok) {
                if stop.load(Ordering::SeqCst) {
                    return;
                }
                let (tx, page) = (tx.clone(), page.clone());
                std::thread::spawn(move || {
                    if let Some(reply) = page.answer(stream) {
                        let _ = tx.send(reply);
                    }
                });
            }
        });
        Self { replies, stopping }
    }

    /// Stops the accept loop (woken by one last connection) so the listener closes with the run.
    fn stop(self, port: u16) {
        self.stopping.store(true, Ordering::SeqCst);
        let _ = TcpStream::connect(("127.0.0.1", port));
    }
}

struct Page {
    dir: PathBuf,
    request: String,
    token: String,
}

impl Page {
    /// Answers one HTTP request; returns the page's reply line when that is what was posted.
    fn answer(&self, mut stream: TcpStream) -> Option<Value> {
        stream
            .set_read_timeout(Some(Duration::from_secs(30)))
            .ok()?;
        let mut reader = BufReader::new(stream.try_clone().ok()?);
        let mut line = String::new();
        reader.read_line(&mut line).ok()?;
        let mut parts = line.split_whitespace();
        let (method, target) = (parts.next()?.to_string(), parts.next()?.to_string());
        let length = content_length(&mut reader)?;
        let (path, query) = target.split_once('?').unwrap_or((&target, ""));
        let authorised = query
            .split('&')
            .any(|kv| kv.strip_prefix("token=") == Some(self.token.as_str()));
        match (method.as_str(), path) {
            ("POST", "/result") if authorised && length <= MAX_BODY_BYTES => {
                let mut body = vec![0u8; length];
                reader.read_exact(&mut body).ok()?;
                respond(&mut stream, "200 OK", "text/plain", b"ok");
                serde_json::from_slice(&body).ok()
            }
            ("POST", "/result") if authorised => {
                respond(
                    &mut stream,
                    "413 Payload Too Large",
                    "text/plain",
                    b"too large",
                );
                None
            }
            ("POST", _) | ("GET", "/request.json") if !authorised => {
                respond(&mut stream, "403 Forbidden", "text/plain", b"forbidden");
                None
            }
            ("GET", _) => {
                self.serve_file(&mut stream, path.trim_start_matches('/'));
                None
            }
            _ => {
                respond(&mut stream, "405 Method Not Allowed", "text/plain", b"no");
                None
            }
        }
    }

    fn serve_file(&self, stream: &mut TcpStream, name: &str) {
        let body = if name == "request.json" {
            Some(self.request.as_bytes().to_vec())
        } else if !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.') {
            std::fs::read(self.dir.join(name)).ok()
        } else {
            None
        };
        match body {
            Some(b) => respond(stream, "200 OK", content_type(name), &b),
            None => respond(stream, "404 Not Found", "text/plain", b"not found"),
        }
    }
}

/// The request's `Content-Length` (0 when absent), after reading its headers; `None` when the
/// headers cannot be read.
fn content_length(reader: &mut impl BufRead) -> Option<usize> {
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            return Some(length);
        }
        if let Some((k, v)) = header.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(usize::MAX);
        }
    }
}

fn content_type(name: &str) -> &'static str {
    match name.rsplit('.').next() {
        Some("html") => "text/html; charset=utf-8",
        Some("js" | "mjs") => "text/javascript",
        Some("wasm") => "application/wasm",
        Some("json") => "application/json",
        _ => "application/octet-stream",
    }
}

fn respond(stream: &mut TcpStream, status: &str, content_type: &str, body: &[u8]) {
    let head = format!(
        "HTTP/1.1 {status}\r\nContent-Type: {content_type}\r\nContent-Length: {}\r\n\
         Cross-Origin-Opener-Policy: same-origin\r\nCross-Origin-Embedder-Policy: require-corp\r\n\
         Cross-Origin-Resource-Policy: same-origin\r\nCache-Control: no-store\r\n\
         Connection: close\r\n\r\n",
        body.len()
    );
    let _ = stream.write_all(head.as_bytes());
    let _ = stream.write_all(body);
}

#[cfg(test)]
mod tests;
