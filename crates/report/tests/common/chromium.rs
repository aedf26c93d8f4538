//! Drives real headless Chromium over the Chrome DevTools Protocol (one websocket to the browser,
//! a flattened session on one page) to load a report, record console errors, exceptions and
//! network requests, evaluate script and take screenshots.

use base64::Engine;
use serde_json::{Value, json};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};
use tungstenite::stream::MaybeTlsStream;
use tungstenite::{Message, WebSocket};

/// The install command printed when no browser is found.
pub const INSTALL_HINT: &str = "apt-get install -y chromium";

/// The Chromium binary: `$TENSORBENCH_CHROMIUM`, else the first of the usual names on `PATH`.
pub fn find() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("TENSORBENCH_CHROMIUM") {
        return Some(PathBuf::from(p));
    }
    let path = std::env::var_os("PATH")?;
    [
        "chromium",
        "chromium-browser",
        "google-chrome",
        "google-chrome-stable",
    ]
    .iter()
    .flat_map(|name| std::env::split_paths(&path).map(move |dir| dir.join(name)))
    .find(|p| p.is_file())
}

/// What happened while a page loaded.
#[derive(Debug, Default)]
pub struct PageLog {
    /// Console messages of level error and uncaught exceptions.
    pub errors: Vec<String>,
    /// Every URL the page requested, the document itself included.
    pub requests: Vec<String>,
}

pub struct Browser {
    child: Child,
    ws: WebSocket<MaybeTlsStream<TcpStream>>,
    session: String,
    next_id: u64,
    events: Vec<Value>,
    _profile: tempfile::TempDir,
}

const TIMEOUT: Duration = Duration::from_secs(30);

impl Browser {
    /// Starts Chromium headless with a fresh profile, no background networking, and opens a blank
    /// page with the Page, Runtime, Log and Network domains enabled.
    pub fn launch(binary: &Path) -> Result<Self, String> {
        let profile = tempfile::tempdir().map_err(|e| e.to_string())?;
        let child = Command::new(binary)
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
                "--hide-scrollbars",
                "--remote-debugging-address=127.0.0.1",
                "--remote-debugging-port=0",
            ])
            .arg(format!("--user-data-dir={}", profile.path().display()))
            .arg("about:blank")
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot start {}: {e}", binary.display()))?;
        let ws_url = match wait_for_port(profile.path()) {
            Ok(u) => u,
            Err(e) => {
                let mut child = child;
                let _ = child.kill();
                let _ = child.wait();
                return Err(e);
            }
        };
        let (ws, _) =
            tungstenite::connect(ws_url.as_str()).map_err(|e| format!("devtools connect: {e}"))?;
        if let MaybeTlsStream::Plain(s) = ws.get_ref() {
            s.set_read_timeout(Some(TIMEOUT))
                .map_err(|e| e.to_string())?;
        }
        let mut b = Self {
            child,
            ws,
            session: String::new(),
            next_id: 0,
            events: Vec::new(),
            _profile: profile,
        };
        let target = b.call_browser("Target.createTarget", json!({ "url": "about:blank" }))?;
        let target_id = target["targetId"]
            .as_str()
            .ok_or("no targetId")?
            .to_string();
        let attached = b.call_browser(
            "Target.attachToTarget",
            json!({ "targetId": target_id, "flatten": true }),
        )?;
        b.session = attached["sessionId"]
            .as_str()
            .ok_or("no sessionId")?
            .to_string();
        for domain in ["Page", "Runtime", "Log", "Network"] {
            b.call(&format!("{domain}.enable"), json!({}))?;
        }
        Ok(b)
    }

    fn send(
        &mut self,
        method: &str,
        params: Value,
        session: Option<&str>,
    ) -> Result<Value, String> {
        self.next_id += 1;
        let id = self.next_id;
        let mut msg = json!({ "id": id, "method": method, "params": params });
        if let Some(s) = session {
            msg["sessionId"] = json!(s);
        }
        self.ws
            .send(Message::Text(msg.to_string().into()))
            .map_err(|e| e.to_string())?;
        let deadline = Instant::now() + TIMEOUT;
        loop {
            let v = self.read(deadline)?;
            if v["id"].as_u64() == Some(id) {
                if let Some(err) = v.get("error") {
                    return Err(format!("{method}: {err}"));
                }
                return Ok(v["result"].clone());
            }
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
    }

    fn read(&mut self, deadline: Instant) -> Result<Value, String> {
        loop {
            if Instant::now() > deadline {
                return Err("devtools: timed out".into());
            }
            match self.ws.read().map_err(|e| format!("devtools read: {e}"))? {
                Message::Text(t) => {
                    return serde_json::from_str(t.as_str()).map_err(|e| e.to_string());
                }
                Message::Close(_) => return Err("devtools closed the connection".into()),
                _ => {}
            }
        }
    }

    fn call_browser(&mut self, method: &str, params: Value) -> Result<Value, String> {
        self.send(method, params, None)
    }

    /// Calls a method on the page's session.
    pub fn call(&mut self, method: &str, params: Value) -> Result<Value, String> {
        let session = self.session.clone();
        self.send(method, params, Some(&session))
    }

    /// Sets the viewport size and the `prefers-color-scheme` the page sees.
    pub fn viewport(&mut self, width: u32, height: u32, dark: bool) -> Result<(), String> {
        self.call(
            "Emulation.setDeviceMetricsOverride",
            json!({ "width": width, "height": height, "deviceScaleFactor": 1, "mobile": false }),
        )?;
        let scheme = if dark { "dark" } else { "light" };
        self.call(
            "Emulation.setEmulatedMedia",
            json!({ "features": [{ "name": "prefers-color-scheme", "value": scheme }] }),
        )?;
        Ok(())
    }

    /// Navigates to `url`, waits for the load event and a short settle, and returns what the page
    /// logged and requested meanwhile.
    pub fn open(&mut self, url: &str) -> Result<PageLog, String> {
        self.events.clear();
        self.call("Page.navigate", json!({ "url": url }))?;
        let deadline = Instant::now() + TIMEOUT;
        while !self
            .events
            .iter()
            .any(|e| e["method"] == "Page.loadEventFired")
        {
            let v = self.read(deadline)?;
            if v.get("method").is_some() {
                self.events.push(v);
            }
        }
        // Anything the page's script does after load (it runs synchronously, but be generous).
        self.eval("new Promise(r => setTimeout(() => r(1), 300))")?;
        Ok(self.log())
    }

    /// Console errors, exceptions and requests seen since the last navigation.
    pub fn log(&self) -> PageLog {
        let mut log = PageLog::default();
        for e in &self.events {
            let p = &e["params"];
            match e["method"].as_str() {
                Some("Runtime.consoleAPICalled")
                    if p["type"] == "error" || p["type"] == "assert" =>
                {
                    log.errors
                        .push(format!("console.{}: {}", p["type"], p["args"]));
                }
                Some("Runtime.exceptionThrown") => log
                    .errors
                    .push(format!("exception: {}", p["exceptionDetails"])),
                Some("Log.entryAdded") if p["entry"]["level"] == "error" => {
                    log.errors.push(format!("log: {}", p["entry"]["text"]));
                }
                Some("Network.requestWillBeSent") => {
                    log.requests
                        .push(p["request"]["url"].as_str().unwrap_or_default().to_string());
                }
                _ => {}
            }
        }
        log
    }

    /// Evaluates `expr` in the page (awaiting promises) and returns its value.
    pub fn eval(&mut self, expr: &str) -> Result<Value, String> {
        let r = self.call(
            "Runtime.evaluate",
            json!({ "expression": expr, "returnByValue": true, "awaitPromise": true }),
        )?;
        if let Some(ex) = r.get("exceptionDetails") {
            return Err(format!("evaluating {expr}: {ex}"));
        }
        Ok(r["result"]["value"].clone())
    }

    /// A PNG of the page region of the element matching `selector` (or the viewport if `None`).
    pub fn screenshot(&mut self, selector: Option<&str>) -> Result<Vec<u8>, String> {
        let mut params = json!({ "format": "png", "captureBeyondViewport": true });
        if let Some(sel) = selector {
            let rect = self.eval(&format!(
                "(() => {{ const r = document.querySelector({}).getBoundingClientRect(); \
                 return [r.left + scrollX, r.top + scrollY, r.width, r.height]; }})()",
                json!(sel)
            ))?;
            let r: Vec<f64> = serde_json::from_value(rect).map_err(|e| e.to_string())?;
            // Tall sections are cut at 1600 px: the top is what a reader sees first.
            params["clip"] = json!({ "x": r[0], "y": r[1], "width": r[2], "height": r[3].min(1600.0), "scale": 1 });
        }
        let shot = self.call("Page.captureScreenshot", params)?;
        base64::engine::general_purpose::STANDARD
            .decode(shot["data"].as_str().ok_or("no screenshot data")?)
            .map_err(|e| e.to_string())
    }
}

impl Drop for Browser {
    fn drop(&mut self) {
        let _ = self.ws.close(None);
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// Chromium writes its DevTools port and browser path to `<profile>/DevToolsActivePort`.
fn wait_for_port(profile: &Path) -> Result<String, String> {
    let file = profile.join("DevToolsActivePort");
    let deadline = Instant::now() + TIMEOUT;
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(&file) {
            let mut lines = text.lines();
            if let (Some(port), Some(path)) = (lines.next(), lines.next()) {
                return Ok(format!("ws://127.0.0.1:{port}{path}"));
            }
        }
        std::thread::sleep(Duration::from_millis(100));
    }
    Err("Chromium did not open its DevTools port within 30 s".into())
}
