-- wrk script for ci/bench-guards and ci/bench-compare: method, body file and up to two headers
-- from the environment.
wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body_file = os.getenv("BENCH_BODY")
if body_file and body_file ~= "" then
  local f = assert(io.open(body_file, "rb"))
  wrk.body = f:read("*a")
  f:close()
  wrk.headers["Content-Type"] = "application/json"
end
local name, value = os.getenv("BENCH_HEADER_NAME"), os.getenv("BENCH_HEADER_VALUE")
if name and name ~= "" then wrk.headers[name] = value end
local name2, value2 = os.getenv("BENCH_HEADER2_NAME"), os.getenv("BENCH_HEADER2_VALUE")
if name2 and name2 ~= "" then wrk.headers[name2] = value2 end
