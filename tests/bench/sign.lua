-- wrk script for signing: every request POSTs the form with an address never used before.
--
-- Arguments (after "--"): run id, form path, CSRF token, Cookie header, Referer, seconds to
-- measure, connections per thread, the form's other fields (consent, its signed time), the
-- first two numbers of the /16 the client addresses come from. Each request comes from a random
-- address of that /16, as the one trusted proxy in front of the site (TRUSTED_PROXY_COUNT=1)
-- writes it in X-Forwarded-For: signers spread over many addresses, as in a real surge, so that
-- the fraud rules see each address a few times at most. A 302 answer is a stored signature; any
-- other status is
-- counted apart. Once the measuring time is over, each connection goes idle after its answer
-- (delay() holds it back) and the thread stops when all of its connections are idle, so that
-- no request is left in flight: every POST the site answered has been counted, and the rows in
-- the database must match the 302s exactly.

local ffi = require("ffi")
ffi.cdef [[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]]
local CLOCK_MONOTONIC = 1
local timespec = ffi.new("bench_timespec")

local function now()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, timespec)
   return tonumber(timespec.tv_sec) + tonumber(timespec.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
   thread:set("thread_id", #threads)
end

function init(args)
   run_id, path, token = args[1], args[2], args[3]
   headers = {
      ["Content-Type"] = "application/x-www-form-urlencoded",
      ["Cookie"] = args[4],
      ["Referer"] = args[5],
   }
   connections = tonumber(args[7])
   fields = args[8] or ""
   network = args[9] or "10.77"
   math.randomseed(thread_id * 7919 + os.time())
   started = now()
   deadline = started + tonumber(args[6])
   last_answer = started
   sent, signed, other, idle = 0, 0, 0, 0
   statuses = {}
end

function delay()
   if now() < deadline then
      return 0
   end
   idle = idle + 1
   if idle >= connections then
      wrk.thread:stop()
   end
   return 3600 * 1000
end

-- wrk also calls this once before the run, to check the request: one address goes unused.
function request()
   sent = sent + 1
   local body = "first_name=Camille&last_name=Martin&email=" .. run_id .. "-" .. thread_id ..
      "-" .. sent .. "%40example.org&country=FR&postal_code=75011&csrfmiddlewaretoken=" .. token ..
      "&" .. fields
   headers["X-Forwarded-For"] = network .. "." .. math.random(0, 255) .. "." .. math.random(0, 255)
   return wrk.format("POST", path, headers, body)
end

function response(status, headers, body)
   last_answer = now()
   if status == 302 then
      signed = signed + 1
   else
      other = other + 1
      local key = tostring(status)
      statuses[key] = (statuses[key] or 0) + 1
   end
end

function done(summary, latency, requests)
   local signed_total, other_total = 0, 0
   local first_start, last_end = math.huge, 0
   local by_status = {}
   for _, thread in ipairs(threads) do
      signed_total = signed_total + thread:get("signed")
      other_total = other_total + thread:get("other")
      first_start = math.min(first_start, thread:get("started"))
      last_end = math.max(last_end, thread:get("last_answer"))
      for status, count in pairs(thread:get("statuses")) do
         by_status[status] = (by_status[status] or 0) + count
      end
   end
   local parts = {}
   for status, count in pairs(by_status) do
      table.insert(parts, string.format('"%s": %d', status, count))
   end
   local errors = summary.errors
   io.write(string.format(
      'BENCH_RESULT {"requests": %d, "duration_us": %d, "bytes": %d, ' ..
      '"errors": {"connect": %d, "read": %d, "write": %d, "status": %d, "timeout": %d}, ' ..
      '"latency_us": {"mean": %.1f, "p50": %d, "p90": %d, "p99": %d, "max": %d}, ' ..
      '"signed": %d, "other": %d, "other_statuses": {%s}, "window_s": %.6f}\n',
      summary.requests, summary.duration, summary.bytes,
      errors.connect, errors.read, errors.write, errors.status, errors.timeout,
      latency.mean, latency:percentile(50), latency:percentile(90), latency:percentile(99),
      latency.max, signed_total, other_total, table.concat(parts, ", "),
      last_end - first_start))
end
