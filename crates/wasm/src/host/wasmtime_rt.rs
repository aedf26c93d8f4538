//! wasmtime, embedded: runs the plain-C-ABI module (feature `cabi` of the module side) with the
//! host's monotonic clock as its `tensorbench.now_ms` import, timing compile and instantiate the
//! way the JavaScript harness does, and replying with the same line protocol.

use super::runtimes::OnLine;
use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};
use wasmtime::{Config, Engine, Instance, Linker, Memory, Module, Store, TypedFunc};

/// How often the epoch advances: the resolution of a call's deadline.
const TICK: Duration = Duration::from_millis(50);

/// The embedded wasmtime's version.
pub fn version() -> &'static str {
    wasmtime_environ::VERSION
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

fn err(e: wasmtime::Error) -> anyhow::Error {
    anyhow!("wasmtime: {e:#}")
}

/// An instantiated module and its exports.
struct Loaded {
    store: Store<()>,
    memory: Memory,
    alloc: TypedFunc<u32, u32>,
    call: TypedFunc<(u32, u32), u64>,
    free: TypedFunc<(u32, u32), ()>,
    cold_start: Value,
    /// Epochs a call may run: a module that loops is interrupted (epoch interruption) instead
    /// of hanging the suite, as Node and Chromium are stopped after silence.
    deadline_ticks: u64,
    ticking: Arc<AtomicBool>,
}

impl Drop for Loaded {
    fn drop(&mut self) {
        self.ticking.store(false, Ordering::SeqCst);
    }
}

/// Advances `engine`'s epoch every [`TICK`] until `ticking` is cleared.
fn start_ticker(engine: Engine) -> Arc<AtomicBool> {
    let ticking = Arc::new(AtomicBool::new(true));
    let on = ticking.clone();
    std::thread::spawn(move || {
        while on.load(Ordering::SeqCst) {
            std::thread::sleep(TICK);
            engine.increment_epoch();
        }
    });
    ticking
}

impl Loaded {
    fn open(wasm: &Path, limit: Duration) -> Result<Self> {
        let t = Instant::now();
        let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
        let fetch_ms = ms(t);
        let engine = Engine::new(Config::new().epoch_interruption(true)).map_err(err)?;
        let t = Instant::now();
        let module = Module::new(&engine, &bytes).map_err(err)?;
        let compile_ms = ms(t);
        let mut linker = Linker::new(&engine);
        let origin = Instant::now();
        linker
            .func_wrap("tensorbench", "now_ms", move || ms(origin))
            .map_err(err)?;
        let mut store = Store::new(&engine, ());
        let deadline_ticks = (limit.as_millis() / TICK.as_millis()).max(1) as u64 + 1;
        store.set_epoch_deadline(deadline_ticks);
        let ticking = start_ticker(engine.clone());
        let t = Instant::now();
        let instance: Instance = linker.instantiate(&mut store, &module).map_err(err)?;
        let instantiate_ms = ms(t);
        let memory = instance
            .get_memory(&mut store, "memory")
            .context("the module exports no memory")?;
        let alloc = instance
            .get_typed_func(&mut store, "tb_alloc")
            .map_err(err)?;
        let call = instance
            .get_typed_func(&mut store, "tb_call")
            .map_err(err)?;
        let free = instance
            .get_typed_func(&mut store, "tb_free")
            .map_err(err)?;
        Ok(Self {
            store,
            memory,
            alloc,
            call,
            free,
            cold_start: json!({
                "fetch_ms": fetch_ms, "compile_ms": compile_ms, "instantiate_ms": instantiate_ms,
            }),
            deadline_ticks,
            ticking,
        })
    }

    /// One request in, one reply out, through the module's linear memory.
    fn call(&mut self, request: &Value) -> Result<Value> {
        self.store.set_epoch_deadline(self.deadline_ticks);
        let text = request.to_string();
        let len = u32::try_from(text.len()).context("request too large")?;
        let p = self.alloc.call(&mut self.store, len).map_err(err)?;
        self.memory
            .write(&mut self.store, p as usize, text.as_bytes())
            .map_err(|e| anyhow!("writing the request: {e}"))?;
        let limit = TICK * (self.deadline_ticks as u32);
        let packed = self
            .call
            .call(&mut self.store, (p, len))
            .map_err(|e| err(e).context(format!("no reply for about {limit:?}; stopped it")))?;
        self.free.call(&mut self.store, (p, len)).map_err(err)?;
        let (rp, rl) = ((packed >> 32) as u32, packed as u32);
        let mut reply = vec![0u8; rl as usize];
        self.memory
            .read(&self.store, rp as usize, &mut reply)
            .map_err(|e| anyhow!("reading the reply: {e}"))?;
        self.free.call(&mut self.store, (rp, rl)).map_err(err)?;
        serde_json::from_slice(&reply).context("the module's reply")
    }
}

/// Runs `request` against the module at `wasm`, one workload per call so each measurement is
/// handed on as soon as it is finished (see `js/harness.mjs` for the protocol).
/// A call that runs past `limit` is interrupted and is an error.
pub(crate) fn stream(
    wasm: &Path,
    request: &Value,
    limit: Duration,
    on_line: &mut OnLine<'_>,
) -> Result<()> {
    let mut loaded = Loaded::open(wasm, limit)?;
    if request["mode"] == "kernels" {
        let mut reply = loaded.call(request)?;
        reply["cold_start"] = loaded.cold_start.clone();
        let _last = on_line(reply)?;
        return Ok(());
    }
    let first = loaded.call(&json!({"mode": "info"}))?;
    let ready = json!({"build": first["build"], "cold_start": loaded.cold_start});
    if on_line(json!({ "ready": ready }))?.is_break() {
        return Ok(());
    }
    for call in per_workload(request) {
        let reply = loaded.call(&call)?;
        if reply.get("error").is_some() {
            let _last = on_line(reply)?;
            return Ok(());
        }
        let measurements = reply["measurements"]
            .as_array()
            .cloned()
            .unwrap_or_default();
        for m in measurements {
            let line = json!({"measurement": m, "memory_bytes": reply["memory_bytes"]});
            if on_line(line)?.is_break() {
                return Ok(());
            }
        }
    }
    let _last = on_line(json!({"end": true}))?;
    Ok(())
}

/// The request split into one call per id (the whole request when it names none).
fn per_workload(request: &Value) -> Vec<Value> {
    let Some(ids) = request["ids"].as_array() else {
        return vec![request.clone()];
    };
    ids.iter()
        .enumerate()
        .map(|(i, id)| {
            let mut call = request.clone();
            call["ids"] = json!([id]);
            call["seeds"] = request["seeds"].get(i).map_or(Value::Null, |s| json!([s]));
            call
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The smallest module with the C-ABI exports whose `tb_call` never returns:
    /// `(loop $l br $l)`. Hand-assembled, so the test needs no WAT parser.
    const LOOPING_MODULE: &[u8] = &[
        0x00, 0x61, 0x73, 0x6d, 0x01, 0x00, 0x00, 0x00, // magic, version 1
        // types: () -> f64, (i32) -> i32, (i32 i32) -> (), (i32 i32) -> i64
        0x01, 0x15, 0x04, 0x60, 0x00, 0x01, 0x7c, 0x60, 0x01, 0x7f, 0x01, 0x7f, 0x60, 0x02, 0x7f,
        0x7f, 0x00, 0x60, 0x02, 0x7f, 0x7f, 0x01, 0x7e,
        // import tensorbench.now_ms: type 0
        0x02, 0x16, 0x01, 0x0b, b't', b'e', b'n', b's', b'o', b'r', b'b', b'e', b'n', b'c', b'h',
        0x06, b'n', b'o', b'w', b'_', b'm', b's', 0x00, 0x00,
        // functions 1..3: types 1, 2, 3
        0x03, 0x04, 0x03, 0x01, 0x02, 0x03, // one page of memory
        0x05, 0x03, 0x01, 0x00, 0x01,
        // exports: memory, tb_alloc = 1, tb_free = 2, tb_call = 3
        0x07, 0x29, 0x04, 0x06, b'm', b'e', b'm', b'o', b'r', b'y', 0x02, 0x00, 0x08, b't', b'b',
        b'_', b'a', b'l', b'l', b'o', b'c', 0x00, 0x01, 0x07, b't', b'b', b'_', b'f', b'r', b'e',
        b'e', 0x00, 0x02, 0x07, b't', b'b', b'_', b'c', b'a', b'l', b'l', 0x00, 0x03,
        // code: alloc returns 0; free does nothing; call loops forever
        0x0a, 0x13, 0x03, 0x04, 0x00, 0x41, 0x00, 0x0b, 0x02, 0x00, 0x0b, 0x09, 0x00, 0x03, 0x40,
        0x0c, 0x00, 0x0b, 0x42, 0x00, 0x0b,
    ];

    #[test]
    fn a_module_that_loops_is_interrupted_at_its_deadline() {
        let dir = tempfile::tempdir().unwrap();
        let wasm = dir.path().join("loops.wasm");
        std::fs::write(&wasm, LOOPING_MODULE).unwrap();
        let limit = Duration::from_millis(200);
        let mut loaded = Loaded::open(&wasm, limit).expect("a valid module");
        // On a thread, so that a deadline that never fires fails the test instead of hanging it.
        let (tx, rx) = std::sync::mpsc::channel();
        std::thread::spawn(move || {
            let t = Instant::now();
            let e = loaded.call(&json!({"mode": "info"})).unwrap_err();
            let _ = tx.send((format!("{e:#}"), t.elapsed()));
        });
        let (e, waited) = rx
            .recv_timeout(Duration::from_secs(30))
            .expect("the looping call was not interrupted within 30 s");
        assert!(e.contains("stopped it"), "{e}");
        assert!(waited >= limit, "stopped before its deadline: {waited:?}");
    }
}
