#!/usr/bin/env node
// The local stand-in for Supabase Auth's key endpoint: serves ci/local-jwks.json (the public half
// of the LOCAL-ONLY ci/local-es256-private.pem) at /auth/v1/.well-known/jwks.json on
// 127.0.0.1:<port>. ci/dev starts it and gives the functions SUPABASE_URL=http://127.0.0.1:<port>.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";

const port = Number(process.argv[2]);
const jwks = readFileSync(new URL("./local-jwks.json", import.meta.url));
createServer((req, res) => {
  if (req.method === "GET" && req.url === "/auth/v1/.well-known/jwks.json") {
    res.writeHead(200, { "content-type": "application/json", "cache-control": "max-age=600" });
    res.end(jwks);
  } else {
    res.writeHead(404, { "content-type": "application/json" });
    res.end('{"error":"not_found"}');
  }
}).listen(port, "127.0.0.1", () => console.log(`jwks: http://127.0.0.1:${port}/auth/v1/.well-known/jwks.json`));
