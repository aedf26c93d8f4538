// Shared by the Node driver and the browser page: loads the wasm-bindgen (`--target web`) module
// from its bytes, timing fetch, compile and instantiate separately (the cold start), then does
// what the host asked, handing `emit` one object per line of the reply protocol:
// - kernel checks (`mode: "kernels"`): one object with `outputs`;
// - the suite: `{ready}` first, then `{measurement, memory_bytes}` as each workload finishes (the
//   host records and announces them one by one), then `{end: true}`; `{error}` stops it.
import * as glue from "./tensorbench_wasm.js";

export async function run(loadBytes, request, emit) {
  const t0 = performance.now();
  const bytes = await loadBytes();
  const t1 = performance.now();
  const module = await WebAssembly.compile(bytes);
  const t2 = performance.now();
  glue.initSync({ module });
  const t3 = performance.now();
  const ready = {
    build: JSON.parse(glue.build_info()),
    cold_start: { fetch_ms: t1 - t0, compile_ms: t2 - t1, instantiate_ms: t3 - t2 },
    memory_after_init_bytes: glue.memory_bytes(),
  };
  if (request.mode === "kernels") {
    ready.outputs = request.checks.map((c) => Array.from(glue.kernel_output(c.op, c.n, c.seed)));
    await emit(ready);
    return;
  }
  await emit({ ready });
  // One call per workload, so each measurement reaches the host as soon as it is finished.
  const calls = request.ids
    ? request.ids.map((id, i) => ({ ...request, ids: [id], seeds: request.seeds ? [request.seeds[i]] : null }))
    : [request];
  for (const call of calls) {
    const reply = JSON.parse(glue.run_suite(JSON.stringify(call)));
    if (reply.error) {
      await emit({ error: reply.error });
      return;
    }
    for (const measurement of reply.measurements) {
      await emit({ measurement, memory_bytes: reply.memory_bytes });
    }
  }
  await emit({ end: true });
}
