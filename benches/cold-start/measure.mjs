// Cold start of each worker in workerd (through Miniflare, the library `wrangler dev` runs it
// with): a fresh workerd process loads the worker (script parse, WASM compile), then the first
// request instantiates the module and runs the handler. Prints, per worker, medians over ROUNDS
// fresh processes (rounds interleaved, so drift hits every worker alike): time until workerd is
// ready, the first request, and a warm request; an empty JavaScript worker is the baseline.
// Usage: node measure.mjs ROUNDS LABEL=DIR... (DIR holds index.js and its .wasm, e.g. the
// `wrangler deploy --dry-run` bundle; the request goes to /functions/v1/<LABEL up to any "@">).
import { Miniflare } from "miniflare";
import { join } from "node:path";
import { performance } from "node:perf_hooks";

const [rounds, ...targets] = process.argv.slice(2);
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function measure(options, path) {
  const t0 = performance.now();
  const mf = new Miniflare({ compatibilityDate: "2026-04-01", ...options });
  await mf.ready;
  const ready = performance.now() - t0;
  const t1 = performance.now();
  await (await mf.dispatchFetch(`http://localhost${path}`)).arrayBuffer();
  const first = performance.now() - t1;
  const warm = [];
  for (let i = 0; i < 20; i++) {
    const t = performance.now();
    await (await mf.dispatchFetch(`http://localhost${path}`)).arrayBuffer();
    warm.push(performance.now() - t);
  }
  await mf.dispose();
  return { ready, first, warm: median(warm) };
}

const workers = [["(empty JS worker)", { modules: true, script: "export default { fetch() { return new Response('ok') } }" }, "/"]];
for (const target of targets) {
  const [name, dir] = target.split("=");
  workers.push([name, {
    modules: true,
    scriptPath: join(dir, "index.js"),
    modulesRules: [{ type: "CompiledWasm", include: ["**/*.wasm"] }],
    hyperdrives: name.startsWith("gateway") ? undefined : { DB: "postgres://nobody:nothing@127.0.0.1:9/none" },
  }, `/functions/v1/${name.split("@")[0]}`]);
}

const runs = workers.map(() => []);
for (let round = 0; round < Number(rounds); round++) {
  for (const [i, [, options, path]] of workers.entries()) runs[i].push(await measure(options, path));
}
console.log("| worker | workerd ready (ms) | first request (ms) | warm request (ms) |");
console.log("|---|---:|---:|---:|");
for (const [i, [name]] of workers.entries()) {
  const m = (k) => median(runs[i].map((r) => r[k])).toFixed(1);
  console.log(`| ${name} | ${m("ready")} | ${m("first")} | ${m("warm")} |`);
}
