//! The JavaScript runtimes a module runs in: Node (a driver script) and headless Chromium (a page
//! of ours served from a loopback server, which posts its reply back). Both load the module the
//! same way (`js/harness.mjs`) and reply with one JSON object.

use super::Missing;
use super::build::{Abi, Module};
use anyhow::{Context, Result, bail};
use serde_json::Value;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::mpsc;
use std::time::{Duration, Instant};

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

/// Finds `runtime` (`$TB_NODE` / `$TB_CHROMIUM`, else the usual names on `PATH`) and its version.
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
        Runtime::Node => ("TB_NODE", &["node", "nodejs"]),
        Runtime::Chromium => (
            "TB_CHROMIUM",
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
    let out = Command::new(&binary)
        .arg("--version")
        .output()
        .map_err(|_| missing())?;
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

/// Runs `request` against `module` in `found`; the reply's `error`, if any, becomes an error.
pub fn execute(
    found: &Found,
    module: &Module,
    request: &Value,
    timeout: Duration,
) -> Result<Value> {
    let reply = match found.runtime {
        Runtime::Node => run_node(&found.binary, module, request)?,
        Runtime::Chromium => run_chromium(&found.binary, &module.dir, request, timeout)?,
        #[cfg(feature = "wasmtime")]
        Runtime::Wasmtime => super::wasmtime_rt::run(&module.wasm, request)?,
        #[cfg(not(feature = "wasmtime"))]
        Runtime::Wasmtime => bail!("this build has no wasmtime (cargo feature `wasmtime`)"),
    };
    if let Some(e) = reply.get("error") {
        bail!(
            "{} reported: {}",
            found.device(),
            e.as_str().unwrap_or_default()
        );
    }
    Ok(reply)
}

fn run_node(node: &Path, module: &Module, request: &Value) -> Result<Value> {
    let out = Command::new(node)
        .arg(module.dir.join("node_driver.mjs"))
        .arg(request.to_string())
        .stdin(Stdio::null())
        .output()
        .context("starting node")?;
    let stdout = String::from_utf8_lossy(&out.stdout);
    let last = stdout.lines().last().unwrap_or_default();
    serde_json::from_str(last).with_context(|| {
        format!(
            "node exited with {} and no reply; stderr:\n{}",
            out.status,
            String::from_utf8_lossy(&out.stderr)
        )
    })
}

/// Serves `dir` on a loopback port (cross-origin isolated, so `performance.now()` gets the
/// browser's finest resolution), opens the page headless and waits for it to post its reply.
fn run_chromium(binary: &Path, dir: &Path, request: &Value, timeout: Duration) -> Result<Value> {
    let listener = TcpListener::bind("127.0.0.1:0").context("binding a loopback port")?;
    let port = listener.local_addr()?.port();
    let profile = tempfile::tempdir()?;
    let mut child = Command::new(binary)
        .args([
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
        .arg(format!("http://127.0.0.1:{port}/page.html"))
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .with_context(|| format!("starting {}", binary.display()))?;
    let reply = serve_until_reply(listener, dir, request, timeout);
    let _ = child.kill();
    let _ = child.wait();
    reply
}

fn serve_until_reply(
    listener: TcpListener,
    dir: &Path,
    request: &Value,
    timeout: Duration,
) -> Result<Value> {
    let (tx, rx) = mpsc::channel::<Value>();
    let (dir, request) = (dir.to_path_buf(), request.to_string());
    std::thread::spawn(move || {
        for stream in listener.incoming().map_while(std::result::Result::ok) {
            let (tx, dir, request) = (tx.clone(), dir.clone(), request.clone());
            std::thread::spawn(move || {
                if let Some(reply) = handle(stream, &dir, &request) {
                    let _ = tx.send(reply);
                }
            });
        }
    });
    let deadline = Instant::now() + timeout;
    rx.recv_timeout(deadline.saturating_duration_since(Instant::now()))
        .map_err(|_| anyhow::anyhow!("chromium posted no reply within {timeout:?}"))
}

/// Answers one HTTP request; returns the page's reply when that is what was posted.
fn handle(mut stream: TcpStream, dir: &Path, request: &str) -> Option<Value> {
    stream
        .set_read_timeout(Some(Duration::from_secs(30)))
        .ok()?;
    let mut reader = BufReader::new(stream.try_clone().ok()?);
    let mut line = String::new();
    reader.read_line(&mut line).ok()?;
    let mut parts = line.split_whitespace();
    let (method, path) = (parts.next()?.to_string(), parts.next()?.to_string());
    let mut length = 0usize;
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).ok()? == 0 || header.trim().is_empty() {
            break;
        }
        if let Some((k, v)) = header.split_once(':')
            && k.eq_ignore_ascii_case("content-length")
        {
            length = v.trim().parse().unwrap_or(0);
        }
    }
    if method == "POST" && path == "/result" {
        let mut body = vec![0u8; length];
        reader.read_exact(&mut body).ok()?;
        respond(&mut stream, "200 OK", "text/plain", b"ok");
        return serde_json::from_slice(&body).ok();
    }
    let name = path.trim_start_matches('/');
    let body = if name == "request.json" {
        Some(request.as_bytes().to_vec())
    } else if !name.is_empty() && !name.contains(['/', '\\']) && !name.starts_with('.') {
        std::fs::read(dir.join(name)).ok()
    } else {
        None
    };
    match body {
        Some(b) => respond(&mut stream, "200 OK", content_type(name), &b),
        None => respond(&mut stream, "404 Not Found", "text/plain", b"not found"),
    }
    None
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
