//! The runtimes' children and the page's server under faults: a runtime that stops answering is
//! stopped with everything it started, its profile removed; the server takes only the run's
//! token, bounded bodies, and stops with the run. Stand-ins replace Node and Chromium, so these
//! run without either.

use super::*;
use crate::host::build::Variant;

/// A stand-in runtime: records its arguments in `dir/args`, starts a background `sleep` and
/// then never answers. The `sleep` holds none of our pipes, so one left running fails the test
/// instead of hanging it on node's stderr.
fn stalling(dir: &Path, marker: &str) -> PathBuf {
    use std::os::unix::fs::PermissionsExt as _;
    let path = dir.join("runtime");
    let text = format!(
        "#!/bin/sh\nprintf '%s\\n' \"$@\" > '{}'\nsleep {marker} >/dev/null 2>&1 &\nexec sleep {marker}\n",
        dir.join("args").display()
    );
    std::fs::write(&path, text).unwrap();
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    path
}

/// Whether a process whose command line holds `marker` is still running a second from now
/// (SIGKILL lands asynchronously; an orphan is reaped by whoever adopts it).
fn running(marker: &str) -> bool {
    let now = || {
        let dirs = std::fs::read_dir("/proc").into_iter().flatten().flatten();
        dirs.filter_map(|e| std::fs::read(e.path().join("cmdline")).ok())
            .any(|c| String::from_utf8_lossy(&c).contains(marker))
    };
    (0..50).all(|_| {
        let alive = now();
        if alive {
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
        alive
    })
}

fn stall(runtime: Runtime, marker: &str) -> (tempfile::TempDir, String) {
    let dir = tempfile::tempdir().unwrap();
    let found = Found {
        runtime,
        binary: stalling(dir.path(), marker),
        version: "0-stand-in".into(),
    };
    let variant = Variant::ALL[0];
    let module = Module {
        variant,
        abi: runtime.abi(),
        dir: dir.path().to_path_buf(),
        wasm: dir.path().join("m.wasm"),
    };
    let idle = Duration::from_millis(500);
    let err = stream(&found, &module, &Value::Null, idle, &mut |_| {
        ControlFlow::Continue(())
    })
    .expect_err("a runtime that never answers is an error");
    (dir, format!("{err:#}"))
}

#[test]
fn a_node_that_stops_answering_is_stopped_with_what_it_started() {
    let marker = format!("{}", 70_000 + std::process::id());
    let (_dir, err) = stall(Runtime::Node, &marker);
    assert!(err.contains("no reply for"), "{err}");
    assert!(!running(&marker), "nothing node started is left");
}

#[test]
fn a_chromium_that_stops_answering_is_stopped_and_its_profile_removed() {
    let marker = format!("{}", 80_000 + std::process::id());
    let (dir, err) = stall(Runtime::Chromium, &marker);
    assert!(err.contains("no reply for"), "{err}");
    assert!(!running(&marker), "nothing chromium started is left");
    let args = std::fs::read_to_string(dir.path().join("args")).unwrap();
    let profile = args
        .lines()
        .find_map(|a| a.strip_prefix("--user-data-dir="))
        .expect("a profile was given");
    assert!(!Path::new(profile).exists(), "{profile} is removed");
}

/// A server for one run, with its port.
fn server(token: &str) -> (Server, u16, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(dir.path().join("page.html"), "<p>page</p>").unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    let request = serde_json::json!({"mode": "info"});
    (
        Server::start(listener, dir.path(), &request, token),
        port,
        dir,
    )
}

/// Sends `head` (and `body`) and returns the status line of the answer.
fn send(port: u16, head: &str, body: &[u8]) -> String {
    let mut s = TcpStream::connect(("127.0.0.1", port)).unwrap();
    s.write_all(head.as_bytes()).unwrap();
    let _ = s.write_all(body);
    let mut answer = String::new();
    let _ = BufReader::new(s).read_line(&mut answer);
    answer.trim().to_string()
}

fn post(port: u16, query: &str, body: &str) -> String {
    let head = format!(
        "POST /result{query} HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        body.len()
    );
    send(port, &head, body.as_bytes())
}

#[test]
fn the_server_takes_replies_only_with_the_runs_token() {
    let (server, port, _dir) = server("s3cret");
    assert!(post(port, "", "{\"end\":true}").contains("403"));
    assert!(post(port, "?token=guess", "{\"end\":true}").contains("403"));
    let forged = send(port, "GET /request.json HTTP/1.1\r\n\r\n", b"");
    assert!(forged.contains("403"), "{forged}");
    let answer = post(port, "?token=s3cret", "{\"end\":true}");
    assert!(answer.contains("200"), "{answer}");
    let reply = server
        .replies
        .recv_timeout(Duration::from_secs(10))
        .unwrap();
    assert_eq!(reply, serde_json::json!({"end": true}));
    assert!(
        server.replies.try_recv().is_err(),
        "the refused posts were dropped"
    );
    server.stop(port);
}

#[test]
fn the_server_refuses_a_huge_body_without_allocating_it() {
    let (server, port, _dir) = server("t");
    // An allocation of this size would abort the process.
    let head = format!(
        "POST /result?token=t HTTP/1.1\r\nContent-Length: {}\r\n\r\n",
        usize::MAX / 2
    );
    assert!(send(port, &head, b"{}").contains("413"));
    let garbage = "POST /result?token=t HTTP/1.1\r\nContent-Length: lots\r\n\r\n";
    assert!(send(port, garbage, b"{}").contains("413"));
    server.stop(port);
}

#[test]
fn the_server_stops_listening_when_the_run_ends() {
    let (server, port, _dir) = server("t");
    assert!(send(port, "GET /page.html HTTP/1.1\r\n\r\n", b"").contains("200"));
    server.stop(port);
    let closed = (0..50).any(|_| {
        std::thread::sleep(Duration::from_millis(20));
        TcpStream::connect(("127.0.0.1", port)).is_err()
    });
    assert!(closed, "the port no longer accepts connections");
}
