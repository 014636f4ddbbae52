-- Shared by the wrk scripts: counts answers other than 200 (wrk itself counts only 4xx
-- and 5xx, so a page that redirected to the sign-in page would pass as served) and
-- prints the count for run.py. Every scenario uses it, the static baseline too, so the
-- cost of the hook is the same on both sides of the comparison. A script that expects
-- another answer (login.lua) replaces `served` and `expected` after loading this, and
-- one that may be told to come back later (a sign-in on a busy server) `told_to_retry`.
local threads = {}

expected = "200"
served = function(status, headers)
  return status == 200
end
told_to_retry = function(status, headers)
  return false
end

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
  retry = 0
end

function response(status, headers, body)
  if served(status, headers) then
    return
  elseif told_to_retry(status, headers) then
    retry = retry + 1
  else
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local total, retries = 0, 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_ok")
    retries = retries + thread:get("retry")
  end
  io.write(string.format("answers other than %s: %d\n", expected, total))
  io.write(string.format("told to retry later: %d\n", retries))
end
