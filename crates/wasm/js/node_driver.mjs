// Node driver: `node node_driver.mjs '<request json>'` prints the reply on stdout, one JSON object
// a line (see harness.mjs).
import { readFile } from "node:fs/promises";
import { run } from "./harness.mjs";

const request = JSON.parse(process.argv[2]);
const wasm = new URL("./tensorbench_wasm_bg.wasm", import.meta.url);
const emit = async (o) => {
  process.stdout.write(JSON.stringify(o) + "\n");
};
try {
  await run(() => readFile(wasm), request, emit);
} catch (e) {
  await emit({ error: String(e && e.stack ? e.stack : e) });
  process.exitCode = 1;
}
