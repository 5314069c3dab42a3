#!/usr/bin/env node
// LOCAL contract stand-ins for two provider APIs that cannot run here. Each checks a request the
// way the provider documents it and answers in the provider's documented shapes; tests set up
// what it serves through a local-only control path (`/__stand-in/...`) that no provider has.
//   Meta Graph API  on 127.0.0.1:<graphPort>:  GET /v23.0/{waba-id}/phone_numbers
//     (https://developers.facebook.com/docs/whatsapp/business-management-api/manage-phone-numbers)
//     access token as `Authorization: Bearer <token>` or `?access_token=`; an unknown token is
//     OAuthException 190, a WABA the token was not granted is error 100 (subcode 33), as Graph
//     answers for an object the caller may not load. Control: POST /__stand-in/grants
//     {"access_token","waba_id","phone_numbers":[{"id","display_phone_number"}]}.
//     POST /v23.0/{phone-number-id}/messages (WhatsApp Cloud API, send a text message:
//     https://developers.facebook.com/docs/whatsapp/cloud-api/reference/messages) with the
//     platform's system-user token as Bearer (401 / OAuthException 190 otherwise), for a number
//     some grant lists (error 100 otherwise), JSON body `messaging_product: "whatsapp"`, `to`
//     (digits), `type: "text"`, `text.body` (1 to 4096 characters), optional `recipient_type`
//     "individual" and `context.message_id`; answers `{messaging_product, contacts, messages:
//     [{id: "wamid.…"}]}`. Control: GET /__stand-in/messages lists what was sent.
//   Mercado Pago    on 127.0.0.1:<mpPort>:     GET /v1/payments/{id}
//     (https://www.mercadopago.com/developers/en/reference/payments/_payments_id/get)
//     `Authorization: Bearer <access token>` required (401 otherwise), numeric id (400
//     otherwise), 404 for an unknown payment. Control: PUT /__stand-in/payments/{id} <payment>.
// Both also take faults, so tests can exercise the circuit breaker: POST /__stand-in/fault
// {"mode": "fail" | "slow" | "ok", "delay_ms"} makes every provider request after it answer 503,
// answer after delay_ms (default 5000), or answer normally; GET /__stand-in/requests is
// {"count": <provider requests received so far>} (control requests are not counted).
// Usage: node ci/provider-stand-ins.mjs <graphPort> <mpPort> <mercadopagoAccessToken> <metaSystemUserToken>
import { createServer } from "node:http";

const [graphPort, mpPort] = process.argv.slice(2, 4).map(Number);
const mpAccessToken = process.argv[4];
const metaSystemUserToken = process.argv[5];
const GRAPH_VERSION = "v23.0";

const send = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json; charset=utf-8" });
  res.end(JSON.stringify(body));
};
const readJson = (req) =>
  new Promise((resolve) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => {
      try { resolve(JSON.parse(text)); } catch { resolve(undefined); }
    });
  });
// Fault injection and request counting, one per stand-in (see the header).
const faultable = (handler, unavailable) => {
  let fault = { mode: "ok", delay_ms: 5000 };
  let count = 0;
  return async (req, res) => {
    const path = new URL(req.url, "http://stand-in").pathname;
    if (req.method === "POST" && path === "/__stand-in/fault") {
      const asked = await readJson(req);
      if (!["ok", "fail", "slow"].includes(asked?.mode)) return send(res, 400, { error: "mode: ok, fail or slow" });
      fault = { mode: asked.mode, delay_ms: Number(asked.delay_ms ?? 5000) };
      return send(res, 204, {});
    }
    if (req.method === "GET" && path === "/__stand-in/requests") return send(res, 200, { count });
    if (path.startsWith("/__stand-in/")) return handler(req, res);
    count += 1;
    if (fault.mode === "fail") return unavailable(res);
    if (fault.mode === "slow") await new Promise((resolve) => setTimeout(resolve, fault.delay_ms));
    return handler(req, res);
  };
};
const bearer = (req) => /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];

// --- Meta Graph API ------------------------------------------------------------------------
const grants = new Map(); // access token -> Map(waba id -> phone numbers)
const graphError = (res, status, code, message, subcode) =>
  send(res, status, { error: { message, type: "OAuthException", code, error_subcode: subcode, fbtrace_id: "standin" } });

const sentMessages = []; // what POST /{phone-number-id}/messages accepted, oldest first
const grantedNumbers = () => new Set([...grants.values()].flatMap((wabas) => [...wabas.values()].flat().map((n) => n.id)));

// WhatsApp Cloud API: send a message (the contract in the header).
const sendMessage = async (req, res, phoneNumberId) => {
  if (bearer(req) !== metaSystemUserToken) return graphError(res, 401, 190, "Invalid OAuth access token - Cannot parse access token");
  if (!grantedNumbers().has(phoneNumberId)) {
    return graphError(res, 400, 100, `Unsupported post request. Object with ID '${phoneNumberId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, 33);
  }
  if (!/^application\/json/.test(req.headers["content-type"] ?? "")) return graphError(res, 400, 100, "Invalid parameter: the body must be JSON");
  const m = await readJson(req);
  const problem =
    m?.messaging_product !== "whatsapp" ? "messaging_product must be whatsapp"
    : !/^\d{1,15}$/.test(m.to ?? "") ? "to must be the recipient's WhatsApp number (digits)"
    : m.type !== "text" ? "type must be text"
    : typeof m.text?.body !== "string" || m.text.body.length < 1 || m.text.body.length > 4096 ? "text.body must be 1 to 4096 characters"
    : m.recipient_type !== undefined && m.recipient_type !== "individual" ? "recipient_type must be individual"
    : m.context !== undefined && typeof m.context?.message_id !== "string" ? "context.message_id must be a message id"
    : null;
  if (problem) return graphError(res, 400, 100, `(#100) Invalid parameter: ${problem}`);
  const id = `wamid.standin${sentMessages.length + 1}`;
  sentMessages.push({ id, phone_number_id: phoneNumberId, to: m.to, body: m.text.body, context: m.context ?? null });
  send(res, 200, { messaging_product: "whatsapp", contacts: [{ input: m.to, wa_id: m.to }], messages: [{ id }] });
};

createServer(faultable(async (req, res) => {
  const url = new URL(req.url, "http://stand-in");
  if (req.method === "GET" && url.pathname === "/__stand-in/messages") return send(res, 200, sentMessages);
  const messages = new RegExp(`^/${GRAPH_VERSION}/(\\d+)/messages$`).exec(url.pathname);
  if (messages && req.method === "POST") return sendMessage(req, res, messages[1]);
  if (req.method === "POST" && url.pathname === "/__stand-in/grants") {
    const grant = await readJson(req);
    if (!grant?.access_token || !/^\d+$/.test(grant.waba_id ?? "") || !Array.isArray(grant.phone_numbers)) {
      return send(res, 400, { error: "access_token, waba_id (digits), phone_numbers[] required" });
    }
    if (!grants.has(grant.access_token)) grants.set(grant.access_token, new Map());
    grants.get(grant.access_token).set(grant.waba_id, grant.phone_numbers);
    return send(res, 204, {});
  }
  const match = new RegExp(`^/${GRAPH_VERSION}/(\\d+)/phone_numbers$`).exec(url.pathname);
  if (!match) return graphError(res, 400, 2500, "Unknown path components");
  if (req.method !== "GET") return graphError(res, 400, 100, "Unsupported request method");
  const token = bearer(req) ?? url.searchParams.get("access_token");
  if (!token) return graphError(res, 400, 2500, "An active access token must be used to query information about the current user.");
  const granted = grants.get(token);
  if (!granted) return graphError(res, 400, 190, "Invalid OAuth access token - Cannot parse access token");
  const numbers = granted.get(match[1]);
  if (!numbers) {
    return graphError(res, 400, 100,
      `Unsupported get request. Object with ID '${match[1]}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`, 33);
  }
  send(res, 200, {
    data: numbers.map((n) => ({ verified_name: "Stand-in Business", quality_rating: "GREEN", ...n })),
    paging: { cursors: { before: "QVFIUmJ", after: "QVFIUmJ" } },
  });
}, (res) => graphError(res, 503, 2, "Service temporarily unavailable"))).listen(graphPort, "127.0.0.1", () => console.log(`meta graph stand-in: http://127.0.0.1:${graphPort}/${GRAPH_VERSION}`));

// --- Mercado Pago API ----------------------------------------------------------------------
const payments = new Map(); // id -> payment resource
const mpError = (res, status, error, message) =>
  send(res, status, { message, error, status, cause: [{ code: status, description: message, data: null }] });

createServer(faultable(async (req, res) => {
  const url = new URL(req.url, "http://stand-in");
  const control = /^\/__stand-in\/payments\/(\d+)$/.exec(url.pathname);
  if (req.method === "PUT" && control) {
    const payment = await readJson(req);
    if (typeof payment !== "object" || payment === null) return send(res, 400, { error: "a payment object" });
    payments.set(control[1], { ...payment, id: Number(control[1]) });
    return send(res, 204, {});
  }
  const match = /^\/v1\/payments\/([^/]+)$/.exec(url.pathname);
  if (!match) return mpError(res, 404, "not_found", "resource not found");
  if (req.method !== "GET") return mpError(res, 405, "method_not_allowed", "Method not allowed");
  if (bearer(req) !== mpAccessToken) return mpError(res, 401, "unauthorized", "invalid access token");
  if (!/^\d+$/.test(match[1])) return mpError(res, 400, "bad_request", "Invalid payment_id");
  const payment = payments.get(match[1]);
  if (!payment) return mpError(res, 404, "not_found", "Payment not found");
  send(res, 200, payment);
}, (res) => mpError(res, 503, "service_unavailable", "Service unavailable"))).listen(mpPort, "127.0.0.1", () => console.log(`mercado pago stand-in: http://127.0.0.1:${mpPort}/v1`));
