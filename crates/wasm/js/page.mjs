// Browser driver: fetches the request from the host's server, runs it, posts the reply back.
import { run } from "./harness.mjs";

async function post(body) {
  await fetch("/result", { method: "POST", body: JSON.stringify(body) });
}

try {
  const request = await (await fetch("/request.json")).json();
  const reply = await run(async () => (await fetch("tensorbench_wasm_bg.wasm")).arrayBuffer(), request);
  reply.user_agent = navigator.userAgent;
  reply.cross_origin_isolated = self.crossOriginIsolated === true;
  await post(reply);
} catch (e) {
  await post({ error: String(e && e.stack ? e.stack : e) });
}
