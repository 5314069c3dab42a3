// Benchmark only, never deployed: the TypeScript worker a team would write instead of the Rust
// functions, doing the same work per request (ci/bench-compare runs both in one wrangler dev):
// jose for JWTs (HS256 with the project secret, ES256 through the project's JWKS), Web Crypto
// HMAC for Paddle, postgres.js through the same Hyperdrive binding `DB`, and per transaction the
// same settings the Rust data path applies (role, its catalog settings, request.jwt.claims,
// request details), so RLS sees the caller exactly as it does behind the Rust functions. Like
// the functions it counts the per-IP and per-account rate limits and writes one log line per
// request.
// Reached through the gateway like the functions: /functions/v1/ts-bench/<route>.
import { createRemoteJWKSet, decodeProtectedHeader, jwtVerify, type JWTPayload } from "jose";
import postgres from "postgres";
// The settings statement of the Rust data path (shared/rls-db/src/session.rs), the very file.
import SETTINGS_SQL from "../../../shared/rls-db/src/request_settings.sql";

interface Env {
  DB: Hyperdrive;
  SUPABASE_JWT_SECRET: string;
  SUPABASE_URL: string;
  PADDLE_WEBHOOK_SECRETS: string;
  PADDLE_TOLERANCE_SECS?: string;
  RATE_LIMITER: DurableObjectNamespace;
  RATE_LIMIT_SCALE?: string;
}

type Sql = postgres.Sql;
// One request as the handlers get it: the URL parsed once, the route's name for the counters.
interface Call {
  request: Request;
  url: URL;
  route: string;
  env: Env;
  sql: Sql;
}
type TransactionSql = postgres.TransactionSql;

const PREFIX = "/functions/v1/ts-bench";
const PAGE_SIZE = 100;
const encoder = new TextEncoder();

// The rate limits the Rust functions count (shared/rate-limit: per minute, per IP before the
// guard and per account after it), through the same limiter Durable Objects (workers/rate-limiter),
// so both sides do the same work per request.
const USER_IP_PER_MINUTE = 300;
const USER_ACCOUNT_PER_MINUTE = 120;
const WEBHOOK_IP_PER_MINUTE = 600;

async function withinLimit(env: Env, scope: "ip" | "account", route: string, subject: string, perMinute: number) {
  const limit = perMinute * Number(env.RATE_LIMIT_SCALE ?? 1);
  const counter = env.RATE_LIMITER.get(env.RATE_LIMITER.idFromName(`${scope}|${route}|${subject}`));
  const decision = await (await counter.fetch(`https://rate-limiter/hit?limit=${limit}&window=60`)).text();
  return decision.startsWith("1 ");
}

const WITHHELD_HEADERS = new Set(["authorization", "cookie", "paddle-signature"]);

let jwks: ReturnType<typeof createRemoteJWKSet> | undefined;
let hmacKey: CryptoKey | undefined;

const json = (status: number, body: unknown) =>
  new Response(JSON.stringify(body), { status, headers: { "content-type": "application/json" } });
const refuse = (status: number, code: string) => json(status, { error: { code, message: code } });

async function verifyUser(request: Request, env: Env): Promise<JWTPayload | null> {
  const token = request.headers.get("authorization")?.match(/^Bearer (.+)$/)?.[1];
  if (!token) return null;
  try {
    const { alg } = decodeProtectedHeader(token);
    const options = { audience: "authenticated", clockTolerance: 30 };
    if (alg === "HS256") {
      const secret = encoder.encode(env.SUPABASE_JWT_SECRET);
      return (await jwtVerify(token, secret, { ...options, algorithms: ["HS256"] })).payload;
    }
    jwks ??= createRemoteJWKSet(new URL(`${env.SUPABASE_URL}/auth/v1/.well-known/jwks.json`));
    return (await jwtVerify(token, jwks, { ...options, algorithms: ["ES256", "RS256"] })).payload;
  } catch {
    return null;
  }
}

function requestSettings(call: Call, role: string, claims: object) {
  const { request } = call;
  const headers: Record<string, string> = {};
  request.headers.forEach((value, name) => {
    if (!WITHHELD_HEADERS.has(name)) headers[name] = value;
  });
  return [
    role,
    JSON.stringify({ ...claims, role }),
    request.method,
    call.url.pathname,
    JSON.stringify(headers),
  ];
}

async function asCaller<T>(
  sql: Sql,
  settings: string[],
  work: (tx: TransactionSql) => Promise<T>,
  readOnly: boolean,
): Promise<T> {
  const mode = readOnly ? "isolation level read committed read only" : "isolation level read committed";
  return (await sql.begin(mode, async (tx) => {
    await tx.unsafe(SETTINGS_SQL, settings);
    return work(tx);
  })) as T;
}

// The caller's claims once the token is verified and the account is within its limit; the
// refusal otherwise.
async function signedIn({ request, env, route }: Call): Promise<JWTPayload | Response> {
  const claims = await verifyUser(request, env);
  if (!claims?.sub || claims.role !== "authenticated") return refuse(401, "invalid_token");
  if (!(await withinLimit(env, "account", route, `user:${claims.sub}`, USER_ACCOUNT_PER_MINUTE))) {
    return refuse(429, "rate_limited");
  }
  return claims;
}

async function listNotes(call: Call): Promise<Response> {
  const claims = await signedIn(call);
  if (claims instanceof Response) return claims;
  const workspace = call.url.searchParams.get("workspace");
  const rows = await asCaller(call.sql, requestSettings(call, "authenticated", claims), (tx) => tx`
    select coalesce(json_agg(n order by n.created_at desc, n.id), '[]')::text as notes
      from (select id, workspace_id, author_id, body, created_at
              from public.notes
             where ${workspace}::uuid is null or workspace_id = ${workspace}::uuid
             order by created_at desc, id
             limit ${PAGE_SIZE}) n`, true);
  return new Response(rows[0].notes, { headers: { "content-type": "application/json" } });
}

async function createNote(call: Call): Promise<Response> {
  const claims = await signedIn(call);
  if (claims instanceof Response) return claims;
  const note = (await call.request.json()) as { workspace_id: string; body: string; visibility?: string };
  const rows = await asCaller(call.sql, requestSettings(call, "authenticated", claims), (tx) => tx`
    with n as (
      insert into public.notes (workspace_id, body, visibility)
      select w.id, ${note.body}, ${note.visibility ?? "team"} from public.workspaces w
       where w.id = ${note.workspace_id}::uuid
      returning *)
    select json_build_object('id', n.id, 'workspace_id', n.workspace_id, 'author_id', n.author_id,
      'body', n.body, 'visibility', n.visibility, 'created_at', n.created_at,
      'deleted_at', n.deleted_at)::text as note from n`, false);
  if (rows.length === 0) return refuse(404, "not_found");
  return new Response(rows[0].note, { status: 201, headers: { "content-type": "application/json" } });
}

async function paddleWebhook(call: Call): Promise<Response> {
  const { request, env } = call;
  const header = request.headers.get("paddle-signature") ?? "";
  const parts = Object.fromEntries(header.split(";").map((part) => part.split("=", 2)));
  const body = await request.text();
  const tolerance = Number(env.PADDLE_TOLERANCE_SECS ?? 5);
  if (!parts.ts || !parts.h1 || Math.abs(Date.now() / 1000 - Number(parts.ts)) > tolerance) {
    return refuse(401, "invalid_signature");
  }
  hmacKey ??= await crypto.subtle.importKey("raw", encoder.encode(env.PADDLE_WEBHOOK_SECRETS),
    { name: "HMAC", hash: "SHA-256" }, false, ["verify"]);
  const signature = Uint8Array.from(parts.h1.match(/../g) ?? [], (byte: string) => parseInt(byte, 16));
  const valid = await crypto.subtle.verify("HMAC", hmacKey, signature, encoder.encode(`${parts.ts}:${body}`));
  if (!valid) return refuse(401, "invalid_signature");
  const event = JSON.parse(body);
  const claims = { role: "service_role" };
  // Stored once, then processed in the same transaction, as the Rust functions do
  // (public.process_webhook_event after public.record_webhook_event).
  const rows = await asCaller(call.sql, requestSettings(call, "service_role", claims), (tx) => tx`
    select s.stored, public.process_webhook_event('paddle', ${event.event_id}) as outcome
      from (select public.record_webhook_event('paddle', ${event.event_id}, ${event.event_type},
              ${event.occurred_at}::timestamptz, ${JSON.stringify(event)}::jsonb, ${body}, null::uuid)
              as stored offset 0) s`, false);
  return json(200, { stored: rows[0].stored, duplicate: !rows[0].stored, outcome: rows[0].outcome });
}

const ROUTES: Record<string, (call: Call) => Promise<Response>> = {
  "GET /notes": listNotes,
  "POST /notes": createNote,
  "POST /paddle-webhook": paddleWebhook,
};

export default {
  async fetch(request: Request, env: Env, ctx: ExecutionContext): Promise<Response> {
    const url = new URL(request.url);
    const route = `${request.method} ${url.pathname.slice(PREFIX.length)}`;
    const handler = ROUTES[route];
    if (!handler) return refuse(404, "not_found");
    const ipPerMinute = handler === paddleWebhook ? WEBHOOK_IP_PER_MINUTE : USER_IP_PER_MINUTE;
    const ip = request.headers.get("cf-connecting-ip") ?? "unknown";
    if (!(await withinLimit(env, "ip", route, ip, ipPerMinute))) return refuse(429, "rate_limited");
    // Hyperdrive's documented pattern: a client per request, closed after the response.
    const sql = postgres(env.DB.connectionString, { max: 5, fetch_types: false });
    let response: Response;
    try {
      response = await handler({ request, url, route, env, sql });
    } catch (error) {
      console.error(error);
      response = refuse(503, "database_unavailable");
    } finally {
      ctx.waitUntil(sql.end());
    }
    // One JSON line per request, as the functions write (theirs also masked).
    console.log(JSON.stringify({ level: "info", event: "request", method: request.method, path: url.pathname,
      query: url.search ? url.search.slice(1) : null, status: response.status }));
    return response;
  },
};
