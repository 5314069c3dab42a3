#!/usr/bin/env node
// LOCAL contract stand-in for an OpenAI-compatible chat completions API (no model runs here).
//   POST /v1/chat/completions   (https://platform.openai.com/docs/api-reference/chat/create)
//     `Authorization: Bearer <key>` must be the configured key (401 invalid_api_key otherwise);
//     the JSON body needs `model` (a non-empty string) and `messages` (a non-empty array of
//     {role: system|user|assistant, content: string}); `max_tokens`, when sent, is a positive
//     integer. Anything else is 400 invalid_request_error, as the API answers. The answer is
//     deterministic: the `<note>` blocks of the last user message that share a word (4+ letters)
//     with its `Question:` line, quoted, or "Your notes do not say." Usage counts a token per 4
//     characters.
//   Control (local only, no provider has it):
//     POST /__stand-in/mode {"fail_status": 503|null, "delay_ms": n, "usage_total_tokens": n|null}
//       fail every call with that status, answer after a delay, or report that usage;
//     POST /__stand-in/reset  back to normal, requests forgotten;
//     GET  /__stand-in/requests  the request bodies received (for tests).
// Usage: node ci/llm-standin.mjs <port> <apiKey>
import { createServer } from "node:http";

const port = Number(process.argv[2]);
const apiKey = process.argv[3];
const normal = () => ({ fail_status: null, delay_ms: 0, usage_total_tokens: null });
let mode = normal();
let received = [];

const send = (res, status, body) => {
  res.writeHead(status, { "content-type": "application/json" });
  res.end(JSON.stringify(body));
};
const apiError = (res, status, type, code, message) =>
  send(res, status, { error: { message, type, param: null, code } });
const readText = (req) =>
  new Promise((resolve) => {
    let text = "";
    req.on("data", (chunk) => (text += chunk));
    req.on("end", () => resolve(text));
  });
const parse = (text) => {
  try { return JSON.parse(text); } catch { return undefined; }
};

// The contract's request shape; the first problem found, or null.
const problem = (body) => {
  if (!body || typeof body !== "object") return "We could not parse the JSON body of your request.";
  if (typeof body.model !== "string" || body.model === "") return "you must provide a model parameter";
  if (!Array.isArray(body.messages) || body.messages.length === 0) return "'messages' must be a non-empty array";
  for (const m of body.messages) {
    if (!["system", "user", "assistant"].includes(m?.role)) return "messages[].role must be system, user or assistant";
    if (typeof m.content !== "string") return "messages[].content must be a string";
  }
  if (body.max_tokens !== undefined && !(Number.isInteger(body.max_tokens) && body.max_tokens > 0)) {
    return "max_tokens must be a positive integer";
  }
  return null;
};

const answerFor = (messages) => {
  const user = [...messages].reverse().find((m) => m.role === "user")?.content ?? "";
  const question = /\nQuestion: ([\s\S]*)$/.exec(user)?.[1] ?? user;
  const words = new Set((question.toLowerCase().match(/\p{L}{4,}/gu) ?? []));
  const notes = [...user.matchAll(/<note>\n([\s\S]*?)\n<\/note>/g)].map((m) => m[1]);
  const matching = notes.filter((n) => (n.toLowerCase().match(/\p{L}{4,}/gu) ?? []).some((w) => words.has(w)));
  return matching.length ? `From your notes: ${matching.join(" | ")}` : "Your notes do not say.";
};

createServer(async (req, res) => {
  const url = new URL(req.url, "http://stand-in");
  if (url.pathname === "/__stand-in/mode" && req.method === "POST") {
    const wanted = parse(await readText(req)) ?? {};
    mode = { ...mode, ...wanted };
    return send(res, 200, mode);
  }
  if (url.pathname === "/__stand-in/reset" && req.method === "POST") {
    mode = normal();
    received = [];
    return send(res, 200, mode);
  }
  if (url.pathname === "/__stand-in/requests" && req.method === "GET") {
    return send(res, 200, received);
  }
  if (url.pathname !== "/v1/chat/completions") return apiError(res, 404, "invalid_request_error", "unknown_url", `Unknown request URL: ${req.method} ${url.pathname}`);
  if (req.method !== "POST") return apiError(res, 405, "invalid_request_error", "method_not_allowed", "Only POST is supported");
  const text = await readText(req);
  const key = /^Bearer (\S+)$/.exec(req.headers.authorization ?? "")?.[1];
  if (key !== apiKey) return apiError(res, 401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided.");
  if (!/^application\/json\b/.test(req.headers["content-type"] ?? "")) {
    return apiError(res, 400, "invalid_request_error", null, "Content-Type must be application/json");
  }
  const body = parse(text);
  const wrong = problem(body);
  if (wrong) return apiError(res, 400, "invalid_request_error", null, wrong);
  received.push(body);
  if (mode.delay_ms > 0) await new Promise((r) => setTimeout(r, mode.delay_ms));
  if (mode.fail_status) return apiError(res, mode.fail_status, "server_error", null, "The server had an error while processing your request.");
  const content = answerFor(body.messages);
  const promptTokens = Math.ceil(body.messages.reduce((n, m) => n + m.content.length, 0) / 4);
  const completionTokens = Math.min(Math.ceil(content.length / 4), body.max_tokens ?? Infinity);
  send(res, 200, {
    id: `chatcmpl-standin-${received.length}`,
    object: "chat.completion",
    created: Math.floor(Date.now() / 1000),
    model: body.model,
    choices: [{ index: 0, message: { role: "assistant", content }, finish_reason: "stop" }],
    usage: {
      prompt_tokens: promptTokens,
      completion_tokens: completionTokens,
      total_tokens: mode.usage_total_tokens ?? promptTokens + completionTokens,
    },
  });
}).listen(port, "127.0.0.1");
