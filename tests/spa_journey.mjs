// The SPA journey of two users, driven the way the SPA drives the platform: supabase-js
// `functions.invoke` against the local gateway, with the users' access tokens (minted by
// tests/spa_journey.rs) and the public anon key for the anonymous share-link reader.
//   node tests/spa_journey.mjs '<json: {url, anonKey, emailStandIn, resendKey, a, b}>'
// `a` = {token, aal2Token}, `b` = {token, email}. Prints one JSON line per step; exits 1 at the
// first step whose answer is not the expected one.
import { createClient } from "@supabase/supabase-js";

const config = JSON.parse(process.argv[2]);

function client(accessToken) {
  return createClient(config.url, config.anonKey, {
    auth: { persistSession: false, autoRefreshToken: false },
    global: accessToken ? { headers: { Authorization: `Bearer ${accessToken}` } } : {},
  });
}

const alice = client(config.a.token);
const aliceAal2 = client(config.a.aal2Token);
const bob = client(config.b.token);
const stranger = client(null);

// One call: the status and parsed body, errors included (supabase-js puts the Response of a
// non-2xx answer in error.context).
async function call(who, name, { method = "GET", body, headers } = {}) {
  const { data, error } = await who.functions.invoke(name, { method, body, headers });
  if (!error) return { status: 200, data };
  const response = error.context;
  if (!response || typeof response.status !== "number") throw error;
  const text = await response.text();
  let parsed = text;
  try {
    parsed = JSON.parse(text);
  } catch {}
  return { status: response.status, data: parsed };
}

async function step(name, who, fn, options, expectStatus) {
  const answer = await call(who, fn, options);
  const ok = answer.status === expectStatus;
  console.log(JSON.stringify({ step: name, status: answer.status, expected: expectStatus }));
  if (!ok) {
    console.error(`step "${name}": ${answer.status}, expected ${expectStatus}: ${JSON.stringify(answer.data)}`);
    process.exit(1);
  }
  return answer.data;
}

function expect(name, condition, detail) {
  console.log(JSON.stringify({ check: name, ok: condition }));
  if (!condition) {
    console.error(`check "${name}" failed: ${JSON.stringify(detail)}`);
    process.exit(1);
  }
}

// supabase-js answers a 2xx as status 200 here; the platform's 201s are checked through the body.
const workspace = await step("A creates a workspace", alice, "workspaces", {
  method: "POST", body: { name: "Journey" } }, 200);
const ws = workspace.id;

await step("A invites B", alice, `invitations?workspace=${ws}`, {
  method: "POST", body: { email: config.b.email, role: "member" } }, 200);
const mail = await fetch(`${config.emailStandIn}/emails`, {
  headers: { Authorization: `Bearer ${config.resendKey}` },
}).then((r) => r.json());
const sent = mail.data.filter((m) => (m.to || []).includes(config.b.email));
expect("the invitation e-mail reached B", sent.length === 1, sent.length);
const token = sent[0].text.split("#token=")[1].split(/\s/)[0];

await step("B cannot read the workspace before accepting", bob, `members?workspace=${ws}`, {}, 404);
await step("B accepts", bob, "invitations/accept", { method: "POST", body: { token } }, 200);
await step("the invitation is single use", bob, "invitations/accept", {
  method: "POST", body: { token } }, 404);

const noteA = await step("A writes a team note", alice, "notes", {
  method: "POST", body: { workspace_id: ws, body: "A's plan" } }, 200);
await step("B writes a team note", bob, "notes", {
  method: "POST", body: { workspace_id: ws, body: "B's reply" } }, 200);
const seenByB = await step("B lists the workspace's notes", bob, `notes?workspace=${ws}`, {}, 200);
expect("B sees both team notes", seenByB.length === 2, seenByB.map((n) => n.body));

const link = await step("A shares A's note", alice, "share-links", {
  method: "POST", body: { note_id: noteA.id } }, 200);
const shared = await step("an anonymous reader opens it by token", stranger, "share-links/note", {
  headers: { "x-share-token": link.token } }, 200);
expect("the shared note is A's", shared.body === "A's plan", shared);
await step("A revokes the link", alice, `share-links/revoke?id=${link.id}`, { method: "POST" }, 200);
await step("the revoked link opens nothing", stranger, "share-links/note", {
  headers: { "x-share-token": link.token } }, 404);

await step("A removes B", alice, `members?workspace=${ws}&id=${config.b.id}`, { method: "DELETE" }, 200);
await step("B's next call is refused", bob, `members?workspace=${ws}`, {}, 404);
const afterRemoval = await step("B lists the workspace's notes again", bob, `notes?workspace=${ws}`, {}, 200);
expect("B sees none of the workspace's notes", afterRemoval.length === 0, afterRemoval);

await step("deleting needs aal2", alice, `workspaces?id=${ws}`, { method: "DELETE" }, 403);
await step("A deletes the workspace (aal2, recent sign-in)", aliceAal2, `workspaces?id=${ws}`, {
  method: "DELETE" }, 200);
const deleted = await step("A's list shows it deleted", alice, "workspaces", {}, 200);
expect("the workspace is marked deleted", deleted.some((w) => w.id === ws && w.deleted_at), deleted);
await step("A restores it", aliceAal2, `workspaces/restore?id=${ws}`, { method: "POST" }, 200);
const restored = await step("A's list shows it live", alice, "workspaces", {}, 200);
expect("the workspace is live again", restored.some((w) => w.id === ws && !w.deleted_at), restored);
console.log(JSON.stringify({ journey: "complete" }));
