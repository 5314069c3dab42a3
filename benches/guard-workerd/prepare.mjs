// Writes what ci/bench-guards sends: an HS256 access token signed with the local development
// secret, and 1 KB / 64 KB Paddle-shaped bodies with a Paddle-Signature made now.
// Usage: node prepare.mjs <out-dir>   (reads SUPABASE_JWT_SECRET and PADDLE_WEBHOOK_SECRETS)
import { createHmac } from "node:crypto";
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";

const out = process.argv[2];
mkdirSync(out, { recursive: true });
const now = Math.floor(Date.now() / 1000);

const b64 = (value) => Buffer.from(JSON.stringify(value)).toString("base64url");
const claims = {
  sub: "aaaaaaaa-0000-4000-8000-000000000001",
  aud: "authenticated",
  role: "authenticated",
  aal: "aal1",
  iat: now,
  exp: now + 3600,
};
const unsigned = `${b64({ alg: "HS256", typ: "JWT" })}.${b64(claims)}`;
const hs256 = createHmac("sha256", process.env.SUPABASE_JWT_SECRET).update(unsigned).digest("base64url");
writeFileSync(join(out, "hs256.token"), `${unsigned}.${hs256}`);

for (const [name, size] of [["1k", 1024], ["64k", 64 * 1024]]) {
  const envelope = { event_id: "evt_01hv8y4z1x2w3v4u5t6s7r8q9p", event_type: "transaction.completed",
    occurred_at: new Date(now * 1000).toISOString(), notification_id: "ntf_bench", data: { pad: "" } };
  envelope.data.pad = "x".repeat(size - JSON.stringify(envelope).length);
  const body = JSON.stringify(envelope);
  const h1 = createHmac("sha256", process.env.PADDLE_WEBHOOK_SECRETS).update(`${now}:${body}`).digest("hex");
  writeFileSync(join(out, `body-${name}.json`), body);
  writeFileSync(join(out, `paddle-${name}.sig`), `ts=${now};h1=${h1}`);
}
