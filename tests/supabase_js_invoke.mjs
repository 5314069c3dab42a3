// Calls a function the way an SPA does, with the real supabase-js client:
//   node tests/supabase_js_invoke.mjs <supabase-url> <anon-key> <function> [user-access-token]
// Prints {"status": <HTTP status>, "data": <parsed body>} on stdout. Driven by tests/e2e.rs.
import { createClient } from "@supabase/supabase-js";

const [url, anonKey, functionName, userToken] = process.argv.slice(2);
const supabase = createClient(url, anonKey, {
  auth: { persistSession: false, autoRefreshToken: false },
  global: userToken ? { headers: { Authorization: `Bearer ${userToken}` } } : {},
});
const { data, error } = await supabase.functions.invoke(functionName, { method: "GET" });
if (error) {
  // FunctionsHttpError carries the Response: report its status and JSON body.
  const response = error.context;
  if (!response || typeof response.status !== "number") throw error;
  console.log(JSON.stringify({ status: response.status, data: await response.json() }));
} else {
  console.log(JSON.stringify({ status: 200, data }));
}
