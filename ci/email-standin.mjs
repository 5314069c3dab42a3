#!/usr/bin/env node
// LOCAL stand-in for the e-mail provider's HTTP API (Resend, https://resend.com/docs/api-reference):
// Resend cannot run here, so functions/invitations is tested against its documented contract.
// Usage: node ci/email-standin.mjs <port> <api key>; ci/dev starts it on LOCAL_EMAIL_PORT.
//
//   POST /emails       Resend's "send email": `Authorization: Bearer <key>` (401 missing_api_key,
//                      403 invalid_api_key), `Content-Type: application/json`, a JSON object with
//                      `from`, `to` (an address or 1-50 of them), `subject`, and `html` or `text`;
//                      optional cc, bcc, reply_to, headers, attachments, tags, scheduled_at. Any
//                      other field, a wrong type or a malformed address is 422 validation_error
//                      (stricter than Resend on unknown fields, so our client sends only
//                      documented ones). `Idempotency-Key` (at most 256 characters): the same key
//                      and body answer the first id again without a second mail; the same key with
//                      another body is 409 invalid_idempotent_request. Success: 200 {"id": "<uuid>"}.
//   GET /emails        the mail accepted so far, newest first: {"object":"list","data":[…]} with
//   GET /emails/<id>   `to` (array), `from`, `subject`, `text`, `html`, `created_at`: how tests
//                      read an invitation's token from the "sent" mail. Same Bearer key.
//
// Test hook, not part of Resend's contract: a recipient at the domain `provider-down.test` gets
// 500 internal_server_error, so the provider failing can be tested.
import { createServer } from "node:http";
import { randomUUID } from "node:crypto";

const port = Number(process.argv[2]);
const apiKey = process.argv[3];
if (!port || !apiKey) {
  console.error("usage: email-standin.mjs <port> <api key>");
  process.exit(2);
}

const sent = []; // newest last
const byIdempotencyKey = new Map(); // key -> { body, id }
const MAX_BODY = 1024 * 1024;
const ALLOWED = new Set(["from", "to", "subject", "html", "text", "cc", "bcc", "reply_to", "headers",
  "attachments", "tags", "scheduled_at"]);
// `local@domain` or `Name <local@domain>`, as Resend documents `from`.
const ADDRESS = /^[^@\s<>]+@[^@\s<>]+$/;
const NAMED_ADDRESS = /^[^<>]*<([^@\s<>]+@[^@\s<>]+)>$/;

function reply(res, status, body) {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
}

// Resend's error shape: {"statusCode", "message", "name"}.
function fail(res, status, name, message) {
  reply(res, status, { statusCode: status, message, name });
}

function authorized(req, res) {
  const header = req.headers.authorization;
  if (!header || !header.startsWith("Bearer ")) {
    fail(res, 401, "missing_api_key", "Missing API key in the authorization header.");
    return false;
  }
  if (header.slice("Bearer ".length) !== apiKey) {
    fail(res, 403, "invalid_api_key", "API key is invalid");
    return false;
  }
  return true;
}

const isAddress = (value) => typeof value === "string" && ADDRESS.test(value);
const isSender = (value) => typeof value === "string" && (ADDRESS.test(value) || NAMED_ADDRESS.test(value));
const addresses = (value) => (Array.isArray(value) ? value : [value]);

// The first thing wrong with a send-email body, or null.
function violation(body) {
  if (body === null || typeof body !== "object" || Array.isArray(body)) return "the body must be a JSON object";
  for (const field of Object.keys(body)) {
    if (!ALLOWED.has(field)) return `unknown field \`${field}\``;
  }
  for (const field of ["from", "to", "subject"]) {
    if (body[field] === undefined) return `missing required field \`${field}\``;
  }
  if (!isSender(body.from)) return "`from` must be `email@example.com` or `Name <email@example.com>`";
  const to = addresses(body.to);
  if (to.length < 1 || to.length > 50 || !to.every(isAddress)) return "`to` must be 1 to 50 e-mail addresses";
  for (const field of ["cc", "bcc", "reply_to"]) {
    if (body[field] !== undefined && !addresses(body[field]).every(isAddress)) return `\`${field}\` must be e-mail addresses`;
  }
  if (typeof body.subject !== "string" || body.subject.length === 0) return "`subject` must be a non-empty string";
  if (body.html === undefined && body.text === undefined) return "one of `html` or `text` is required";
  for (const field of ["html", "text"]) {
    if (body[field] !== undefined && typeof body[field] !== "string") return `\`${field}\` must be a string`;
  }
  return null;
}

function send(req, res, raw) {
  if (!authorized(req, res)) return;
  if (!(req.headers["content-type"] || "").toLowerCase().startsWith("application/json")) {
    return fail(res, 422, "validation_error", "Content-Type must be application/json");
  }
  let body;
  try {
    body = JSON.parse(raw);
  } catch {
    return fail(res, 422, "validation_error", "the body is not valid JSON");
  }
  const problem = violation(body);
  if (problem) return fail(res, 422, "validation_error", problem);
  const key = req.headers["idempotency-key"];
  if (key !== undefined) {
    if (key.length === 0 || key.length > 256) {
      return fail(res, 400, "invalid_idempotency_key", "The key must be between 1-256 chars.");
    }
    const earlier = byIdempotencyKey.get(key);
    if (earlier) {
      if (earlier.raw !== raw) {
        return fail(res, 409, "invalid_idempotent_request",
          "Same idempotency key used with a different request payload.");
      }
      return reply(res, 200, { id: earlier.id });
    }
  }
  if (addresses(body.to).some((address) => address.endsWith("@provider-down.test"))) {
    return fail(res, 500, "internal_server_error", "stand-in: provider-down.test recipients fail");
  }
  const id = randomUUID();
  sent.push({ object: "email", id, ...body, to: addresses(body.to), created_at: new Date().toISOString() });
  if (key !== undefined) byIdempotencyKey.set(key, { raw, id });
  reply(res, 200, { id });
}

createServer((req, res) => {
  const chunks = [];
  let size = 0;
  req.on("data", (chunk) => {
    size += chunk.length;
    if (size <= MAX_BODY) chunks.push(chunk);
  });
  req.on("end", () => {
    const path = new URL(req.url, "http://standin").pathname;
    if (size > MAX_BODY) return fail(res, 413, "validation_error", "the body is too large");
    if (path === "/emails" && req.method === "POST") return send(req, res, Buffer.concat(chunks).toString("utf8"));
    if (path === "/emails" && req.method === "GET") {
      if (!authorized(req, res)) return;
      return reply(res, 200, { object: "list", data: [...sent].reverse() });
    }
    const one = path.match(/^\/emails\/([0-9a-f-]{36})$/);
    if (one && req.method === "GET") {
      if (!authorized(req, res)) return;
      const email = sent.find((e) => e.id === one[1]);
      return email ? reply(res, 200, email) : fail(res, 404, "not_found", "Email not found");
    }
    if (path === "/emails" || one) return fail(res, 405, "method_not_allowed", "Method not allowed");
    fail(res, 404, "not_found", "The requested endpoint does not exist.");
  });
}).listen(port, "127.0.0.1", () => console.log(`e-mail stand-in (Resend contract): http://127.0.0.1:${port}/emails`));
