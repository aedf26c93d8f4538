//! A child that never ends is stopped at its deadline with what it started; one that ends on
//! time leaves nothing behind either.

use super::*;

/// Whether process `pid` still exists (a zombie counts as gone).
fn alive(pid: u32) -> bool {
    std::fs::read_to_string(format!("/proc/{pid}/stat")).is_ok_and(|s| {
        s.rsplit(')')
            .next()
            .is_some_and(|r| !r.trim_start().starts_with('Z'))
    })
}

/// Whether `pid` is gone within a second (SIGKILL is delivered asynchronously, and an orphan is
/// reaped by whoever adopts it).
fn gone(pid: u32) -> bool {
    (0..50).any(|_| {
        let dead = !alive(pid);
        if !dead {
            std::thread::sleep(Duration::from_millis(20));
        }
        dead
    })
}

/// A shell that starts a background `sleep`, prints its pid, and then waits forever.
fn hanging_shell() -> Command {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "sleep 600 & echo $!; exec sleep 600"]);
    cmd
}

fn grandchild_of(out: &[u8]) -> u32 {
    String::from_utf8_lossy(out)
        .trim()
        .parse()
        .expect("the shell printed a pid")
}

#[test]
fn a_child_past_its_deadline_is_stopped_with_everything_it_started() {
    let started = Instant::now();
    let mut cmd = hanging_shell();
    let mut group = Group::spawn(cmd.stdout(Stdio::piped()), "a hanging shell").unwrap();
    let mut line = String::new();
    let stdout = group.child().stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    let grandchild = grandchild_of(line.as_bytes());
    let leader = group.child().id();
    let err = group.wait_within(Duration::from_millis(300)).unwrap_err();
    assert!(
        matches!(&err, Error::TimedOut { what, .. } if what == "a hanging shell"),
        "{err}"
    );
    assert!(err.to_string().contains("still running after"), "{err}");
    assert!(!alive(leader), "the child is stopped");
    assert!(gone(grandchild), "what the child started is stopped too");
    assert!(started.elapsed() < Duration::from_secs(30), "no hang");
    assert!(
        !live().contains(&leader),
        "the group is no longer registered"
    );
}

#[test]
fn output_within_gives_a_timely_childs_output_and_stops_its_leftovers() {
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "sleep 600 & echo $!"]);
    let out = output_within(&mut cmd, "sh", Duration::from_secs(30)).unwrap();
    assert!(out.status.success());
    let grandchild = grandchild_of(&out.stdout);
    assert!(
        gone(grandchild),
        "a leftover of a finished child is stopped"
    );
}

#[test]
fn a_child_that_cannot_start_is_an_error_naming_it() {
    let mut cmd = Command::new("/nonexistent/tensorbench-no-such-program");
    let err = status_within(&mut cmd, "the stand-in", Duration::from_secs(1)).unwrap_err();
    assert!(matches!(err, Error::Spawn { .. }), "{err}");
    assert!(err.to_string().contains("the stand-in"), "{err}");
}

#[test]
fn kill_tree_reaches_descendants_in_process_groups_of_their_own() {
    // A grandchild that leaves its parent's group (as Open MPI's ranks and a wasm host's Chromium
    // do): killing the child's group alone would miss it.
    let mut cmd = Command::new("sh");
    cmd.args(["-c", "setsid sleep 600 & echo $!; exec sleep 600"]);
    let mut group = Group::spawn(cmd.stdout(Stdio::piped()), "sh").unwrap();
    let mut line = String::new();
    let stdout = group.child().stdout.take().unwrap();
    std::io::BufRead::read_line(&mut std::io::BufReader::new(stdout), &mut line).unwrap();
    let escaped = grandchild_of(line.as_bytes());
    // `setsid` may fork before exec; give the grandchild a moment to be in its own session.
    std::thread::sleep(Duration::from_millis(200));
    kill_tree(group.child().id());
    assert!(gone(escaped), "the descendant in its own group is killed");
    group.terminate();
}
