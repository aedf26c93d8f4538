// Browser driver: fetches the request from the host's server, runs it, and posts each line of the
// reply back (see harness.mjs) with the page's token.
import { run } from "./harness.mjs";

const token = new URLSearchParams(location.search).get("token") ?? "";

async function post(body) {
  await fetch(`/result?token=${token}`, { method: "POST", body: JSON.stringify(body) });
}

function withPage(o) {
  const target = o.ready ?? (o.build ? o : null);
  if (target) {
    target.user_agent = navigator.userAgent;
    target.cross_origin_isolated = self.crossOriginIsolated === true;
  }
  return o;
}

try {
  const request = await (await fetch(`/request.json?token=${token}`)).json();
  await run(async () => (await fetch("tensorbench_wasm_bg.wasm")).arrayBuffer(), request, (o) => post(withPage(o)));
} catch (e) {
  await post({ error: String(e && e.stack ? e.stack : e) });
}
