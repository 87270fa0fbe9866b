-- bench/wrk/bench.lua — the wrk script of every HTTP point of the benchmark (upstream, nginx
-- proxy, gateway tools/call and tools/list, official-SDK server). Configured by environment:
--   BENCH_METHOD        GET or POST (default GET)
--   BENCH_BODY          file whose content is the request body (optional)
--   BENCH_HEADERS       file of "Name: value" lines (optional)
--   BENCH_EXPECT        substring every good response body must contain (optional)
--   BENCH_EXPECT_BYTES  size check mode (large bodies, e.g. tools/list of 1,000 tools): no Lua
--                       per response; instead the bytes read must equal requests x this size
--                       (headers + body of the verified good answer), within the in-flight slack
-- Body check mode (default): every response is checked; a non-2xx status, a JSON-RPC error
-- ("error":{ in the body), a tool error ("isError":true) or a body without BENCH_EXPECT is
-- counted: a fast error is not a result.
-- done() prints one line "BENCHJSON {...}" with throughput, latency percentiles (µs) and counts.
-- The request is static (wrk.method/body/headers set here, no request() function), so wrk builds
-- it once and sends it without calling Lua.

local function slurp(path)
  if not path or path == "" then return nil end
  local f = assert(io.open(path, "rb"))
  local s = f:read("*a")
  f:close()
  return s
end

wrk.method = os.getenv("BENCH_METHOD") or "GET"
local body = slurp(os.getenv("BENCH_BODY"))
if body then wrk.body = body:gsub("%s+$", "") end
local hs = slurp(os.getenv("BENCH_HEADERS"))
if hs then
  for line in hs:gmatch("[^\r\n]+") do
    local k, v = line:match("^([^:]+):%s*(.*)$")
    if k then wrk.headers[k] = v end
  end
end
local expect = os.getenv("BENCH_EXPECT")
if expect == "" then expect = nil end
local expect_bytes = tonumber(os.getenv("BENCH_EXPECT_BYTES") or "")

local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  bad_status, rpc_errors, tool_errors, unexpected, responses = 0, 0, 0, 0, 0
end

function response(status, headers, body)
  responses = responses + 1
  if status < 200 or status > 299 then
    bad_status = bad_status + 1
  elseif body:find('"error":{', 1, true) then
    rpc_errors = rpc_errors + 1
  elseif body:find('"isError":true', 1, true) then
    tool_errors = tool_errors + 1
  elseif expect and not body:find(expect, 1, true) then
    unexpected = unexpected + 1
  end
end

-- wrk decides whether to parse bodies from whether `response` is a function when the script is
-- loaded: in size check mode it must not be.
if expect_bytes then response = nil end

function done(summary, latency, requests)
  local c = { bad_status = 0, rpc_errors = 0, tool_errors = 0, unexpected = 0, responses = 0 }
  for _, t in ipairs(threads) do
    for k, _ in pairs(c) do c[k] = c[k] + (t:get(k) or 0) end
  end
  local e = summary.errors
  if expect_bytes then
    -- wrk counts non-2xx/3xx itself; bytes include responses still in flight at the end
    c.bad_status = e.status
    c.responses = summary.requests
    local want = expect_bytes * summary.requests
    local slack = expect_bytes * (#threads * 64)
    if summary.bytes < want or summary.bytes > want + slack then c.unexpected = summary.requests end
  end
  local secs = summary.duration / 1e6
  local out = string.format(
    '{"requests":%d,"duration_s":%.3f,"rps":%.1f,"p50_us":%d,"p90_us":%d,"p99_us":%d,' ..
    '"max_us":%d,"mean_us":%.1f,"bad_status":%d,"rpc_errors":%d,"tool_errors":%d,' ..
    '"unexpected":%d,"responses":%d,"socket_errors":%d,"timeouts":%d,"bytes":%d,"check":"%s"}',
    summary.requests, secs, summary.requests / secs, latency:percentile(50),
    latency:percentile(90), latency:percentile(99), latency.max, latency.mean,
    c.bad_status, c.rpc_errors, c.tool_errors, c.unexpected, c.responses,
    e.connect + e.read + e.write, e.timeout, summary.bytes, expect_bytes and "size" or "body")
  io.write("BENCHJSON " .. out .. "\n")
end
