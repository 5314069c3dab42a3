#!/usr/bin/env node
// What the circuit breaker and the WhatsApp queue hand-off cost, against a running ci/dev
// (BENCHMARKS.md, "Circuit breaker and queue hand-off"). Interleaved, same run, medians:
//   breaker: GET /functions/v1/circuit-breaker with the cron secret reads the 4 providers'
//     Durable Objects one after another; the same route refused (wrong secret, 401) reads none.
//     (ok - refused) / 4 = one round trip to a breaker object, what a closed, healthy breaker
//     adds to each outbound call.
//   queue: a signed Meta delivery with one text message (stored, then queued) against the same
//     delivery whose message is a status update (stored, nothing to queue).
// Usage: node ci/bench-breaker-queue.mjs <functionsUrl> <cronSecret> <metaAppSecret> [rounds]
import { createHmac } from "node:crypto";

const [base, cronSecret, metaSecret, roundsArg] = process.argv.slice(2);
const rounds = Number(roundsArg ?? 200);

const timed = async (url, init) => {
  const start = performance.now();
  const response = await fetch(url, init);
  await response.arrayBuffer();
  return [performance.now() - start, response.status];
};
const median = (xs) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
let n = 0;
const delivery = (kind) => {
  n += 1;
  const id = `wamid.bench${Date.now()}${n}`;
  const item = kind === "text"
    ? { messages: [{ from: "5491155550000", id, timestamp: "1", type: "text", text: { body: "hola" } }] }
    : { statuses: [{ id, status: "read", timestamp: "1", recipient_id: "5491155550000" }] };
  const body = JSON.stringify({
    object: "whatsapp_business_account",
    entry: [{ id: "1", changes: [{ field: "messages", value: {
      messaging_product: "whatsapp", metadata: { display_phone_number: "1", phone_number_id: "999000999" }, ...item } }] }],
  });
  const signature = "sha256=" + createHmac("sha256", metaSecret).update(body).digest("hex");
  return { method: "POST", body, headers: { "x-hub-signature-256": signature, "content-type": "application/json" } };
};

const samples = { breakerOk: [], breakerRefused: [], queued: [], notQueued: [] };
for (let i = 0; i < rounds; i++) {
  const [ok, okStatus] = await timed(`${base}/circuit-breaker`, { headers: { "x-cron-secret": cronSecret } });
  const [refused, refusedStatus] = await timed(`${base}/circuit-breaker`, { headers: { "x-cron-secret": "wrong" } });
  const [queued, queuedStatus] = await timed(`${base}/meta-webhook`, delivery("text"));
  const [notQueued, notQueuedStatus] = await timed(`${base}/meta-webhook`, delivery("status"));
  if (okStatus !== 200 || refusedStatus !== 401 || queuedStatus !== 200 || notQueuedStatus !== 200) {
    throw new Error(`unexpected statuses ${okStatus} ${refusedStatus} ${queuedStatus} ${notQueuedStatus}`);
  }
  samples.breakerOk.push(ok); samples.breakerRefused.push(refused);
  samples.queued.push(queued); samples.notQueued.push(notQueued);
}
const m = Object.fromEntries(Object.entries(samples).map(([k, v]) => [k, median(v)]));
const ms = (x) => `${x.toFixed(2)} ms`;
console.log(`rounds: ${rounds} (interleaved), medians`);
console.log(`breaker listing (4 object round trips): ${ms(m.breakerOk)}; refused, no object: ${ms(m.breakerRefused)}`);
console.log(`=> one breaker round trip (closed-state cost per outbound call): ${ms((m.breakerOk - m.breakerRefused) / 4)}`);
console.log(`meta-webhook, text message stored + queued: ${ms(m.queued)}; status stored, nothing queued: ${ms(m.notQueued)}`);
console.log(`=> queue hand-off: +${ms(m.queued - m.notQueued)} (${(m.queued / m.notQueued).toFixed(2)}x)`);
