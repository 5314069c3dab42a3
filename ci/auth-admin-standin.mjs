#!/usr/bin/env node
// LOCAL contract stand-in for Supabase Auth's admin API (GoTrue behind Supabase's API gateway),
// which cannot run here. It checks each request the way Supabase documents and supabase-js's
// `auth.admin` sends it, and keeps users in memory:
//   every request: `apikey: <service role key>` (absent: 401 "No API key found in request", as
//     the gateway answers) and `Authorization: Bearer <service role key>` (another token: 403
//     error_code not_admin, as GoTrue answers a non-admin caller);
//   POST   /auth/v1/admin/users        {email, id?, email_confirm?, password?, user_metadata?,
//                                        app_metadata?} → 200 the user (422 email_exists)
//   GET    /auth/v1/admin/users/{id}   → 200 the user, 404 user_not_found
//   DELETE /auth/v1/admin/users/{id}   body absent or {"should_soft_delete": boolean} only
//                                        (`deleteUser(id, shouldSoftDelete)`), JSON content type
//                                        → 200 the deleted user, 404 user_not_found; soft deletes
//                                        are refused here (the platform always deletes for good).
// Fields GoTrue does not document are refused (400), stricter than GoTrue.
// Deleting a user also deletes its rows in the local `auth.sessions` (through psql, when a
// database URL is given), as the foreign key from auth.sessions to auth.users cascades on
// Supabase: every token of that user is refused from its next request on (0042).
// Usage: node ci/auth-admin-standin.mjs <port> <serviceRoleKey> [<databaseUrl>]
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";
import { spawnSync } from "node:child_process";

const port = Number(process.argv[2]);
const serviceKey = process.argv[3];
const databaseUrl = process.argv[4];

// True when the user's sessions are gone (or there is no database to end them in).
const endSessions = (id) => {
  if (!databaseUrl) return true;
  const run = spawnSync("psql", [databaseUrl, "-qAtX", "-v", "ON_ERROR_STOP=1", "-v", `id=${id}`], {
    input: "delete from auth.sessions where user_id = :'id'::uuid;\n",
    encoding: "utf8",
  });
  return run.status === 0;
};
const users = new Map(); // id -> user
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const CREATE_FIELDS = new Set(["id", "email", "email_confirm", "password", "user_metadata", "app_metadata"]);

const send = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
};
const authError = (res, status, error_code, msg) => send(res, status, { code: status, error_code, msg });
const readBody = (req) =>
  new Promise((resolve) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => resolve(text));
  });

createServer(async (req, res) => {
  const url = new URL(req.url, "http://stand-in");
  if (req.headers.apikey === undefined) return send(res, 401, { message: "No API key found in request" });
  if (req.headers.apikey !== serviceKey) return send(res, 401, { message: "Invalid API key" });
  if (req.headers.authorization !== `Bearer ${serviceKey}`) {
    return authError(res, 403, "not_admin", "User not allowed");
  }
  const text = await readBody(req);
  let body;
  if (text !== "") {
    if (!/^application\/json/.test(req.headers["content-type"] ?? "")) {
      return authError(res, 400, "validation_failed", "Content-Type must be application/json");
    }
    try { body = JSON.parse(text); } catch { return authError(res, 400, "bad_json", "Could not parse request body as JSON"); }
  }
  if (url.pathname === "/auth/v1/admin/users" && req.method === "POST") {
    const unknown = Object.keys(body ?? {}).filter((k) => !CREATE_FIELDS.has(k));
    if (unknown.length) return authError(res, 400, "validation_failed", `unknown fields: ${unknown}`);
    if (typeof body?.email !== "string" || !body.email.includes("@")) {
      return authError(res, 400, "validation_failed", "Unable to validate email address");
    }
    const id = body.id ?? randomUUID();
    if (!UUID.test(id)) return authError(res, 400, "validation_failed", "id must be a UUID");
    if ([...users.values()].some((u) => u.email === body.email) || users.has(id)) {
      return authError(res, 422, "email_exists", "A user with this email address has already been registered");
    }
    const now = new Date().toISOString();
    const user = {
      id, aud: "authenticated", role: "authenticated", email: body.email,
      email_confirmed_at: body.email_confirm ? now : null,
      app_metadata: body.app_metadata ?? { provider: "email", providers: ["email"] },
      user_metadata: body.user_metadata ?? {}, created_at: now, updated_at: now,
    };
    users.set(id, user);
    return send(res, 200, user);
  }
  const match = /^\/auth\/v1\/admin\/users\/([^/]+)$/.exec(url.pathname);
  if (!match) return authError(res, 404, "not_found", "Not found");
  const user = users.get(match[1]);
  if (req.method === "GET") {
    return user ? send(res, 200, user) : authError(res, 404, "user_not_found", "User not found");
  }
  if (req.method === "DELETE") {
    const unknown = Object.keys(body ?? {}).filter((k) => k !== "should_soft_delete");
    if (unknown.length || (body && typeof body.should_soft_delete !== "boolean")) {
      return authError(res, 400, "validation_failed", "the only field is should_soft_delete (boolean)");
    }
    if (body?.should_soft_delete) return authError(res, 400, "validation_failed", "soft deletes are not used by this platform");
    if (!user) return authError(res, 404, "user_not_found", "User not found");
    if (!endSessions(match[1])) return authError(res, 500, "unexpected_failure", "Unexpected failure, please check server logs for more information");
    users.delete(match[1]);
    return send(res, 200, user);
  }
  return authError(res, 405, "method_not_allowed", "Method not allowed");
}).listen(port, "127.0.0.1");
