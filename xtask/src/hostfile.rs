//! Open MPI hostfiles (`--hostfile`), read before anything is built so a bad one is a clear
//! error naming its line, and so `--ranks` can be checked against the slots it offers. `mpirun`
//! still reads the file itself; this only refuses what it would refuse later, or misread.

use std::path::Path;

/// Keys Open MPI's hostfile lexer takes for a host's slot count, its maximum, and the rest.
const SLOT_KEYS: [&str; 5] = ["slots", "slot", "count", "cpu", "cpus"];
const MAX_KEYS: [&str; 6] = [
    "max_slots",
    "max-slots",
    "maxslots",
    "max_slot",
    "max-slot",
    "maxslot",
];
const NUMERIC_KEYS: [&str; 6] = [
    "port",
    "boards",
    "sockets",
    "sockets_per_board",
    "cores",
    "cores_per_socket",
];
const TEXT_KEYS: [&str; 2] = ["username", "user"];

/// What is wrong with a hostfile's text, and on which line.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ParseError(pub String);

impl std::fmt::Display for ParseError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.0)
    }
}

impl std::error::Error for ParseError {}

/// One host line: its name and the slots it offers (`None`: as many as it has cores).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Host {
    pub name: String,
    pub slots: Option<u32>,
}

/// Reads `path`; the error names the file and the line.
pub fn read(path: &Path) -> Result<Vec<Host>, crate::BadInput> {
    let bad = |msg: String| crate::BadInput(format!("--hostfile {}: {msg}", path.display()));
    let bytes = std::fs::read(path).map_err(|e| bad(e.to_string()))?;
    let text = String::from_utf8(bytes).map_err(|_| bad("not UTF-8 text".into()))?;
    parse(&text).map_err(|e| bad(e.0))
}

/// The hosts of a hostfile's text, or what is wrong and on which line.
pub fn parse(text: &str) -> Result<Vec<Host>, ParseError> {
    let mut hosts = Vec::new();
    for (i, raw) in text.lines().enumerate() {
        let line = raw.split('#').next().unwrap_or_default().trim();
        if line.is_empty() {
            continue;
        }
        hosts.push(parse_line(line).map_err(|e| ParseError(format!("line {}: {}", i + 1, e.0)))?);
    }
    if hosts.is_empty() {
        return Err(ParseError("names no host".into()));
    }
    Ok(hosts)
}

fn parse_line(line: &str) -> Result<Host, ParseError> {
    let mut tokens = line.split_whitespace();
    let name = tokens.next().unwrap_or_default();
    let valid_name = |c: char| c.is_ascii_alphanumeric() || "-._:[]".contains(c);
    if name.contains('=') || !name.chars().all(valid_name) {
        return Err(ParseError(format!("{name:?} is not a host name")));
    }
    let mut host = Host {
        name: name.to_string(),
        slots: None,
    };
    for token in tokens {
        let (key, value) = token
            .split_once('=')
            .ok_or_else(|| ParseError(format!("{token:?}: expected KEY=VALUE (e.g. slots=4)")))?;
        let key = key.to_ascii_lowercase();
        if TEXT_KEYS.contains(&key.as_str()) {
            continue;
        }
        let known = SLOT_KEYS.contains(&key.as_str())
            || MAX_KEYS.contains(&key.as_str())
            || NUMERIC_KEYS.contains(&key.as_str());
        if !known {
            return Err(ParseError(format!(
                "{key:?} is not a hostfile key (slots, max_slots, ...)"
            )));
        }
        let n: u32 = value
            .parse()
            .map_err(|_| ParseError(format!("{token:?}: {value:?} is not a whole number")))?;
        if SLOT_KEYS.contains(&key.as_str()) {
            host.slots = Some(n);
        }
    }
    Ok(host)
}

/// The slots all hosts offer together, when every host says how many.
pub fn total_slots(hosts: &[Host]) -> Option<u64> {
    hosts.iter().map(|h| h.slots.map(u64::from)).sum()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn open_mpi_examples_parse() {
        let text = "# the cluster\nnode01 slots=2\nnode02 slots=4 max_slots=8   # big one\n\n\
                    192.168.0.7 slots=1 user=bench\nlocalhost\n";
        let hosts = parse(text).unwrap();
        let names: Vec<&str> = hosts.iter().map(|h| h.name.as_str()).collect();
        assert_eq!(names, ["node01", "node02", "192.168.0.7", "localhost"]);
        assert_eq!(hosts[1].slots, Some(4));
        assert_eq!(total_slots(&hosts), None, "localhost gives no count");
        assert_eq!(total_slots(&hosts[..3]), Some(7));
    }

    #[test]
    fn errors_name_the_line_and_the_token() {
        for (text, want) in [
            ("a slots=2\nb slots=two\n", "line 2: \"slots=two\""),
            ("a slots=2 gpus=1\n", "line 1: \"gpus\""),
            ("a 4\n", "line 1: \"4\": expected KEY=VALUE"),
            ("slots=4\n", "line 1: \"slots=4\" is not a host name"),
            ("# nothing\n\n", "names no host"),
            ("a slots=-1\n", "line 1"),
        ] {
            let err = parse(text).unwrap_err().0;
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }

    #[test]
    fn read_names_the_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("hosts");
        std::fs::write(&path, [0xff, 0xfe, b'\n']).unwrap();
        let err = read(&path).unwrap_err().0;
        assert!(err.contains("--hostfile") && err.contains("hosts"), "{err}");
    }

    /// `PROPTEST_CASES` when set (e.g. 100000 for a long run), else a quick default.
    fn cases() -> ProptestConfig {
        let cases = std::env::var("PROPTEST_CASES")
            .ok()
            .and_then(|v| v.parse().ok());
        ProptestConfig {
            cases: cases.unwrap_or(512),
            failure_persistence: None,
            ..ProptestConfig::default()
        }
    }

    proptest! {
        #![proptest_config(cases())]

        /// Any text: hosts or an error naming a line (or saying there is none), never a panic.
        #[test]
        fn any_text_parses_or_names_a_line(text in "(.{0,40}\n?){0,6}") {
            if let Err(e) = parse(&text) {
                prop_assert!(e.0.starts_with("line ") || e.0 == "names no host", "{e}");
            }
        }

        /// Written hosts read back with their slots.
        #[test]
        fn written_hosts_read_back(
            hosts in prop::collection::vec(("[a-z][a-z0-9-]{0,12}", prop::option::of(0u32..512)), 1..6),
        ) {
            let text: String = hosts
                .iter()
                .map(|(n, s)| s.map_or(format!("{n}\n"), |s| format!("{n} slots={s} # c\n")))
                .collect();
            let got = parse(&text).unwrap();
            let want: Vec<Host> = hosts
                .iter()
                .map(|(n, s)| Host { name: n.clone(), slots: *s })
                .collect();
            prop_assert_eq!(got, want);
        }
    }
}
