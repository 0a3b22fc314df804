-- wrk script of benchmarks/soak.py: signed webhook calls, paced, timed and counted per request.
--
-- soak.py writes a copy of this file with a first line that sets SOAK: path (of the request),
-- deadline (seconds), interval (seconds between one connection's sends; 0: flat out),
-- threads_total, results (file done() writes), behind_limit (seconds), bodies and sigs (a form
-- body and its X-Twilio-Signature per call). Run with one connection per wrk thread (-tN -cN),
-- so that each thread's state follows one request at a time and can time it.

local ffi = require("ffi")
ffi.cdef[[
typedef struct { long tv_sec; long tv_nsec; } soak_timespec;
int clock_gettime(int clk_id, soak_timespec *tp);
]]
local ts = ffi.new("soak_timespec")
local function now()  -- CLOCK_MONOTONIC, the clock of Python's time.monotonic(): soak.py places events with it
  ffi.C.clock_gettime(1, ts)
  return tonumber(ts.tv_sec) + tonumber(ts.tv_nsec) / 1e9
end

local bodies, sigs, interval = SOAK.bodies, SOAK.sigs, SOAK.interval
local max_events = 2000  -- per thread; the counters go on past it

-- The main state: number the threads, keep them for done().
local threads = {}
function setup(thread)
  table.insert(threads, thread)
  thread:set("index", #threads)
end

-- Each thread's state, read back by done() through thread:get, hence globals.
statuses, decisions, latency, events = {}, {}, {}, {}
slow, unanswered, skipped = 0, 0, 0
sent_at = nil
local i, next_send, verifying

function init(args)
  i = (index - 1) * math.floor(#bodies / SOAK.threads_total)  -- each thread starts elsewhere in the numbers
  verifying = index == 1  -- wrk calls the first thread's request() once before the run, to look at it
end

local function event(sent, seconds, what)
  if #events < max_events then events[#events + 1] = string.format("%.6f %.6f %s", sent, seconds, what) end
end

function delay()  -- milliseconds until this connection's next scheduled send
  local t = now()
  if next_send == nil then
    next_send = t + interval * (index - 1) / SOAK.threads_total  -- the threads spread over one interval
  else
    next_send = next_send + interval
  end
  if t - next_send > SOAK.behind_limit then  -- drop what a stall made us miss rather than burst it out
    local missed = math.floor((t - next_send) / interval)
    skipped = skipped + missed
    next_send = next_send + missed * interval
  end
  local wait = next_send - t
  if wait <= 0 then return 0 end
  return math.floor(wait * 1000 + 0.5)
end
if interval == 0 then delay = nil end  -- flat out: wrk sends the next request as soon as one is answered

function request()
  i = i % #bodies + 1
  local built = wrk.format("POST", SOAK.path, {["Content-Type"] = "application/x-www-form-urlencoded", ["X-Twilio-Signature"] = sigs[i]}, bodies[i])
  if verifying then
    verifying = false
    return built
  end
  local t = now()
  if sent_at ~= nil then  -- the last request's connection closed with no answer
    unanswered = unanswered + 1
    event(sent_at, t - sent_at, "no answer")
  end
  sent_at = t
  return built
end

function response(status, headers, body)
  local seconds = now() - sent_at
  statuses[status] = (statuses[status] or 0) + 1
  local bucket = math.floor(seconds * 1e4)  -- 0.1 ms
  latency[bucket] = (latency[bucket] or 0) + 1
  local decision = headers["X-Callguard-Decision"] or headers["x-callguard-decision"] or "(none)"
  decisions[decision] = (decisions[decision] or 0) + 1
  if status ~= 200 then event(sent_at, seconds, "status " .. status) end
  if string.find(decision, "fault.", 1, true) then event(sent_at, seconds, "fail mode") end
  if seconds > SOAK.deadline then
    slow = slow + 1
    event(sent_at, seconds, "slow")
  end
  sent_at = nil
end

function done(summary, latency_stats, requests)  -- one "kind value..." line per figure, as soak.py reads them
  local out = assert(io.open(SOAK.results, "w"))
  local t = now()
  for _, thread in ipairs(threads) do
    for status, n in pairs(thread:get("statuses")) do out:write("status ", status, " ", n, "\n") end
    for decision, n in pairs(thread:get("decisions")) do out:write("decision ", n, " ", decision, "\n") end
    for bucket, n in pairs(thread:get("latency")) do out:write("latency ", bucket, " ", n, "\n") end
    for _, line in ipairs(thread:get("events")) do out:write("event ", line, "\n") end
    for _, name in ipairs({"slow", "unanswered", "skipped"}) do out:write(name, " ", thread:get(name), "\n") end
    local pending = thread:get("sent_at")
    if pending ~= nil then out:write(string.format("pending %.6f %.6f\n", pending, t - pending)) end
  end
  out:close()
end
