#!/usr/bin/env node
// Serves the demo SPA (spa/) on 127.0.0.1:<port>, its own origin, with the supabase-js browser
// build from node_modules and a /config.js naming the API and its (public) anon key:
//   node ci/serve-spa.mjs <port> <supabase-url> <anon-key>
// ci/dev runs it twice: on LOCAL_SPA_PORT (in CORS_ALLOWED_ORIGINS) and on
// LOCAL_SPA_DISALLOWED_PORT (not in it), so a browser shows both sides of the allowlist.
import { createServer } from "node:http";
import { readFileSync } from "node:fs";

const [port, supabaseUrl, anonKey] = process.argv.slice(2);
const root = new URL("../", import.meta.url);
const files = {
  "/": ["spa/index.html", "text/html; charset=utf-8"],
  "/index.html": ["spa/index.html", "text/html; charset=utf-8"],
  "/app.js": ["spa/app.js", "text/javascript; charset=utf-8"],
  "/supabase.js": [
    "node_modules/@supabase/supabase-js/dist/umd/supabase.js",
    "text/javascript; charset=utf-8",
  ],
};
const config = `window.SPA_CONFIG = ${JSON.stringify({ supabaseUrl, anonKey })};\n`;

createServer((req, res) => {
  const path = new URL(req.url, "http://spa").pathname;
  if (req.method !== "GET") {
    res.writeHead(405).end();
  } else if (path === "/config.js") {
    res.writeHead(200, { "content-type": "text/javascript; charset=utf-8", "cache-control": "no-store" });
    res.end(config);
  } else if (files[path]) {
    const [file, type] = files[path];
    res.writeHead(200, { "content-type": type, "cache-control": "no-store" });
    res.end(readFileSync(new URL(file, root)));
  } else {
    res.writeHead(404, { "content-type": "text/plain" }).end("not found");
  }
}).listen(Number(port), "127.0.0.1", () => console.log(`spa: http://127.0.0.1:${port}/`));
