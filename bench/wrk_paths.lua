-- wrk script for bench/load.py: GET a random path from a file on every request, with fixed headers,
-- count every reply that is not a 200 (or is a 200 without the expected marker) by kind, and print the
-- figures as one JSON line at the end.
--
-- Environment (set by load.py): BENCH_PATHS_FILE (one path a line), BENCH_HEADERS ("Name: value" lines),
-- BENCH_OK_MARKER (text every good body contains; empty: any 200 is good), BENCH_SAMPLE_FILE (where the
-- body of the first failed reply is written, for investigation).

local paths = {}
local threads = {}
local marker = ""
-- Per thread: "status=count,..." of non-200 replies, kept as text because wrk copies strings between
-- its Lua states reliably and tables less so. Rebuilt only when a reply fails, so 200s cost nothing.
failures = ""
local failed = {}
local sampled = false

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  for line in io.lines(os.getenv("BENCH_PATHS_FILE")) do
    if #line > 0 then
      paths[#paths + 1] = line
    end
  end
  for name, value in (os.getenv("BENCH_HEADERS") or ""):gmatch("([^:\n]+):%s*([^\n]*)") do
    wrk.headers[name] = value
  end
  marker = os.getenv("BENCH_OK_MARKER") or ""
  math.randomseed(os.time())
end

function request()
  return wrk.format("GET", paths[math.random(#paths)])
end

function response(status, headers, body)
  local kind = status
  if status == 200 then
    if marker == "" or string.find(body, marker, 1, true) then
      return
    end
    kind = "200 partial"
  end
  failed[kind] = (failed[kind] or 0) + 1
  local parts = {}
  for code, count in pairs(failed) do
    parts[#parts + 1] = code .. "=" .. count
  end
  failures = table.concat(parts, ",")
  if not sampled then
    sampled = true
    local file = io.open(os.getenv("BENCH_SAMPLE_FILE"), "w")
    if file then
      file:write(status .. " " .. (body or ""))
      file:close()
    end
  end
end

-- The latency distribution as percentiles on a fixed grid (stats.QUANTILE_GRID: every 0.1 % from 0.1 to
-- 99.9, then 99.95, 99.99 and the maximum), so that several runs can be pooled into one distribution.
local function quantiles(latency)
  local points = {}
  for i = 1, 999 do
    points[#points + 1] = string.format("%d", latency:percentile(i / 10))
  end
  for _, p in ipairs({99.95, 99.99, 100}) do
    points[#points + 1] = string.format("%d", latency:percentile(p))
  end
  return table.concat(points, ",")
end

function done(summary, latency, requests)
  local failures_all = {}
  for _, thread in ipairs(threads) do
    local text = thread:get("failures")
    if text and #text > 0 then
      failures_all[#failures_all + 1] = text
    end
  end
  local e = summary.errors
  io.write(string.format(
    'BENCH_JSON {"duration_us": %d, "requests": %d, "p50_us": %d, "p99_us": %d, ' ..
    '"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d, "failures": "%s", ' ..
    '"quantiles_us": [%s]}\n',
    summary.duration, summary.requests, latency:percentile(50), latency:percentile(99),
    e.connect, e.read, e.write, e.status, e.timeout, table.concat(failures_all, ","), quantiles(latency)))
end
