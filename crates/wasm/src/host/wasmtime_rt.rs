//! wasmtime, embedded: runs the plain-C-ABI module (feature `cabi` of the module side) with the
//! host's monotonic clock as its `tensorbench.now_ms` import, timing compile and instantiate the
//! way the JavaScript harness does.

use anyhow::{Context, Result, anyhow};
use serde_json::{Value, json};
use std::path::Path;
use std::time::Instant;
use wasmtime::{Engine, Linker, Module, Store};

/// The embedded wasmtime's version.
pub fn version() -> &'static str {
    wasmtime_environ::VERSION
}

fn ms(since: Instant) -> f64 {
    since.elapsed().as_secs_f64() * 1e3
}

/// Sends `request` to the module at `wasm` and returns its reply, with the cold start added.
pub fn run(wasm: &Path, request: &Value) -> Result<Value> {
    let err = |e: wasmtime::Error| anyhow!("wasmtime: {e:#}");
    let t = Instant::now();
    let bytes = std::fs::read(wasm).with_context(|| format!("reading {}", wasm.display()))?;
    let fetch_ms = ms(t);
    let engine = Engine::default();
    let t = Instant::now();
    let module = Module::new(&engine, &bytes).map_err(err)?;
    let compile_ms = ms(t);
    let mut linker = Linker::new(&engine);
    let origin = Instant::now();
    linker
        .func_wrap("tensorbench", "now_ms", move || ms(origin))
        .map_err(err)?;
    let mut store = Store::new(&engine, ());
    let t = Instant::now();
    let instance = linker.instantiate(&mut store, &module).map_err(err)?;
    let instantiate_ms = ms(t);
    let memory = instance
        .get_memory(&mut store, "memory")
        .context("the module exports no memory")?;
    let alloc = instance
        .get_typed_func::<u32, u32>(&mut store, "tb_alloc")
        .map_err(err)?;
    let call = instance
        .get_typed_func::<(u32, u32), u64>(&mut store, "tb_call")
        .map_err(err)?;
    let free = instance
        .get_typed_func::<(u32, u32), ()>(&mut store, "tb_free")
        .map_err(err)?;
    let text = request.to_string();
    let len = u32::try_from(text.len()).context("request too large")?;
    let p = alloc.call(&mut store, len).map_err(err)?;
    memory
        .write(&mut store, p as usize, text.as_bytes())
        .map_err(|e| anyhow!("writing the request: {e}"))?;
    let packed = call.call(&mut store, (p, len)).map_err(err)?;
    free.call(&mut store, (p, len)).map_err(err)?;
    let (rp, rl) = ((packed >> 32) as u32, packed as u32);
    let mut reply = vec![0u8; rl as usize];
    memory
        .read(&store, rp as usize, &mut reply)
        .map_err(|e| anyhow!("reading the reply: {e}"))?;
    free.call(&mut store, (rp, rl)).map_err(err)?;
    let mut reply: Value = serde_json::from_slice(&reply).context("the module's reply")?;
    reply["cold_start"] = json!({
        "fetch_ms": fetch_ms, "compile_ms": compile_ms, "instantiate_ms": instantiate_ms,
    });
    Ok(reply)
}
