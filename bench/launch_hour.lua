-- wrk's side of bench/launch_hour.py: each thread holds one connection and sends the requests the bench feeds it
-- through a FIFO, each when the bench writes it (the bench paces them; wrk only sends), and logs each answer.
--
--   wrk -tN -cN -d3600s --timeout 60s -s bench/launch_hour.lua http://127.0.0.1:PORT -- FIFO LOG_DIR
--
-- A record is RECORD bytes: "id<TAB>method<TAB>path<TAB>user agent (may be empty)<TAB>due<spaces>\n", due on
-- CLOCK_MONOTONIC. The threads share the FIFO: a write of whole records is atomic and each read takes exactly one,
-- so each record goes to the one thread free to take it. A thread waits for its next record in response(), after
-- the answer is timed and before wrk reconnects (gunicorn's sync workers close every connection): an idle open
-- connection would hold one of the web's few workers. The thread's first request, before it has a record, is a
-- /healthz that is not logged. At the end of the FIFO (the bench closed it) each thread stops.
--
-- Each thread writes LOG_DIR/thread-N.log: "id status latency_ms lag_ms answered_at" per answer, where latency is
-- from the request written to the answer read, and lag how late the request started against its due time (all
-- threads busy: the web is not keeping up).

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } launch_hour_timespec;
int clock_gettime(int clock, launch_hour_timespec *tp);
]])

local CLOCK_MONOTONIC = 1
local RECORD = 512
local clock = ffi.new("launch_hour_timespec")

local function now()
  ffi.C.clock_gettime(CLOCK_MONOTONIC, clock)
  return tonumber(clock.tv_sec) + tonumber(clock.tv_nsec) * 1e-9
end

local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("number", threads)
end

local feed, log, pending, finished
local sent_id, sent_at, lag

function init(args)
  feed = io.open(args[1], "rb")
  feed:setvbuf("no") -- a buffered read would take other threads' records
  log = io.open(args[2] .. "/thread-" .. number .. ".log", "w")
end

local function take()
  local record = feed:read(RECORD)
  if record == nil or #record < RECORD then
    finished = true
    log:close()
    wrk.thread:stop()
    return nil
  end
  return record
end

function request()
  if pending == nil then
    sent_id = nil
    return wrk.format("GET", "/healthz")
  end
  local id, method, path, agent, due = pending:match("^(%d+)\t(%u+)\t(%S+)\t([^\t]*)\t([%d.]+)")
  pending = nil
  local headers = {}
  if agent ~= "" then
    headers["User-Agent"] = agent
  end
  local body = nil
  if method == "POST" then -- the action page's form: no field, no CSRF token (its links are signed instead)
    headers["Content-Type"] = "application/x-www-form-urlencoded"
    body = ""
  end
  sent_id, sent_at = id, now()
  lag = sent_at - tonumber(due)
  return wrk.format(method, path, headers, body)
end

function response(status, headers, body)
  local at = now()
  if sent_id ~= nil and not finished then
    log:write(string.format("%s %d %.3f %.3f %.6f\n", sent_id, status, (at - sent_at) * 1000, lag * 1000, at))
  end
  sent_id = nil
  if not finished then
    pending = take()
  end
end
