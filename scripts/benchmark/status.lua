-- Shared by the wrk scripts: counts answers other than 200 (wrk itself counts only 4xx
-- and 5xx, so a page that redirected to the sign-in page would pass as served) and
-- prints the count for run.py. Every scenario uses it, the static baseline too, so the
-- cost of the hook is the same on both sides of the comparison.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
end

function response(status, headers, body)
  if status ~= 200 then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_ok")
  end
  io.write(string.format("answers other than 200: %d\n", total))
end
