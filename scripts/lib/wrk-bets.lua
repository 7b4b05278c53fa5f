-- wrk script of `npm run bench` (scripts/lib/closed-loop.ts): POST /api/bets as fast as the
-- connections allow (closed loop), each request with the next player's token, a random cell of the
-- list and its own idempotency key.
--
--   wrk -t T -c C -d Ds -s wrk-bets.lua <url> -- <tokensFile> <cellsFile> <outDir> <runTag> <stakeMicroUsd>
--
-- Every 201 answer's bet id goes to <outDir>/ids-<thread>.txt (the data check afterwards: every
-- 201 is a row). done() prints "status <code> <count>" lines and one "wrk ..." summary line.

local threads = {}
local threadCount = 0

function setup(thread)
  threadCount = threadCount + 1
  thread:set("tid", threadCount)
  table.insert(threads, thread)
end

local tokens, cells = {}, {}
local counter = 0
local idsFile
local tag, stake
statuses = {}

function init(args)
  for line in io.lines(args[1]) do
    if #line > 0 then tokens[#tokens + 1] = "Bearer " .. line end
  end
  for line in io.lines(args[2]) do
    local col, row = line:match("^(-?%d+) (-?%d+)$")
    if col then cells[#cells + 1] = { col, row } end
  end
  idsFile = io.open(args[3] .. "/ids-" .. tid .. ".txt", "w")
  tag = args[4]
  stake = tonumber(args[5])
  math.randomseed(tid * 7919 + os.time())
  counter = tid
end

function request()
  counter = counter + 16
  local cell = cells[math.random(#cells)]
  local body = string.format('{"col":%s,"row":%s,"stakeMicroUsd":%d,"idempotencyKey":"bench-%s-%d-%d"}', cell[1], cell[2], stake, tag, tid, counter)
  return wrk.format("POST", "/api/bets", { ["content-type"] = "application/json", ["authorization"] = tokens[counter % #tokens + 1] }, body)
end

function response(status, headers, body)
  statuses[status] = (statuses[status] or 0) + 1
  if status == 201 then
    idsFile:write(body:match('"id":"(%d+)"') or "?", "\n")
  end
end

function done(summary, latency, requests)
  for _, thread in ipairs(threads) do
    local counts = thread:get("statuses")
    for code, n in pairs(counts) do
      io.write(string.format("status %d %d\n", code, n))
    end
  end
  local e = summary.errors
  io.write(string.format("wrk requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d connect=%d read=%d write=%d timeout=%d\n",
    summary.requests, summary.duration, latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max,
    e.connect, e.read, e.write, e.timeout))
end
