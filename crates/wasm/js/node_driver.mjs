// Node driver: `node node_driver.mjs '<request json>'` prints one JSON reply on stdout.
import { readFile } from "node:fs/promises";
import { run } from "./harness.mjs";

const request = JSON.parse(process.argv[2]);
const wasm = new URL("./tensorbench_wasm_bg.wasm", import.meta.url);
try {
  const reply = await run(() => readFile(wasm), request);
  process.stdout.write(JSON.stringify(reply) + "\n");
} catch (e) {
  process.stdout.write(JSON.stringify({ error: String(e && e.stack ? e.stack : e) }) + "\n");
  process.exitCode = 1;
}
