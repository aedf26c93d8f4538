// Shared by the Node driver and the browser page: loads the wasm-bindgen (`--target web`) module
// from its bytes, timing fetch, compile and instantiate separately (the cold start), then does
// what the host asked: run the suite (the sampler runs inside the module) or kernel checks.
import * as glue from "./tensorbench_wasm.js";

export async function run(loadBytes, request) {
  const t0 = performance.now();
  const bytes = await loadBytes();
  const t1 = performance.now();
  const module = await WebAssembly.compile(bytes);
  const t2 = performance.now();
  glue.initSync({ module });
  const t3 = performance.now();
  const reply = {
    build: JSON.parse(glue.build_info()),
    cold_start: { fetch_ms: t1 - t0, compile_ms: t2 - t1, instantiate_ms: t3 - t2 },
    memory_after_init_bytes: glue.memory_bytes(),
  };
  if (request.mode === "kernels") {
    reply.outputs = request.checks.map((c) => Array.from(glue.kernel_output(c.op, c.n, c.seed)));
  } else {
    Object.assign(reply, JSON.parse(glue.run_suite(JSON.stringify(request))));
  }
  return reply;
}
