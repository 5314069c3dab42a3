// Samples the CPU of every worker in a running `wrangler dev` through its DevTools inspector (the
// V8 profiler, as Chrome DevTools would) while load runs elsewhere, then prints where the time
// went: self time per function, JavaScript and WASM alike (WASM names need the `name` section:
// profile a build that kept it). Used for BENCHMARKS.md, "Where a request's CPU goes".
// Usage: node ci/cpu-profile.mjs INSPECTOR_PORT SECONDS [TOP]
import WebSocket from "ws";

const [port, seconds, top = "40"] = process.argv.slice(2);
if (!port || !seconds) throw new Error("usage: node ci/cpu-profile.mjs INSPECTOR_PORT SECONDS [TOP]");

const targets = await (await fetch(`http://127.0.0.1:${port}/json`)).json();

function session(url) {
  const socket = new WebSocket(url);
  let next = 0;
  const waiting = new Map();
  socket.on("message", (data) => {
    const message = JSON.parse(data);
    if (message.id !== undefined && waiting.has(message.id)) {
      waiting.get(message.id)(message);
      waiting.delete(message.id);
    }
  });
  const opened = new Promise((resolve, reject) => {
    socket.on("open", resolve);
    socket.on("error", reject);
  });
  const call = (method, params = {}) =>
    new Promise((resolve) => {
      const id = ++next;
      waiting.set(id, resolve);
      socket.send(JSON.stringify({ id, method, params }));
    });
  return { opened, call, close: () => socket.close() };
}

const sessions = [];
for (const target of targets) {
  const s = session(target.webSocketDebuggerUrl);
  await s.opened;
  await s.call("Profiler.enable");
  await s.call("Profiler.setSamplingInterval", { interval: 100 });
  await s.call("Profiler.start");
  sessions.push({ target, s });
}
await new Promise((resolve) => setTimeout(resolve, Number(seconds) * 1000));

const selfTime = new Map();
let total = 0;
for (const { target, s } of sessions) {
  const { result } = await s.call("Profiler.stop");
  s.close();
  const profile = result.profile;
  const byId = new Map(profile.nodes.map((node) => [node.id, node]));
  profile.samples.forEach((id, i) => {
    const frame = byId.get(id).callFrame;
    const where = frame.url.startsWith("wasm://") ? "wasm" : frame.url.split("/").pop() || "-";
    const key = `${target.title || target.id} | ${where} | ${frame.functionName || "(anonymous)"}`;
    const dt = profile.timeDeltas[i] / 1000;
    selfTime.set(key, (selfTime.get(key) || 0) + dt);
    total += dt;
  });
}
const rows = [...selfTime.entries()].sort((a, b) => b[1] - a[1]).slice(0, Number(top));
console.log(`sampled ${total.toFixed(0)} ms over ${sessions.length} isolate(s); self time, largest first:`);
for (const [key, ms] of rows) {
  console.log(`${ms.toFixed(1).padStart(9)} ms ${((100 * ms) / total).toFixed(1).padStart(5)} %  ${key}`);
}
