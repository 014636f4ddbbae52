-- A sign-in storm: students BENCH_FIRST … BENCH_FIRST + BENCH_COUNT - 1 sign in, in turn,
-- with the right password (each check is a real argon2 computation).
local first = tonumber(os.getenv("BENCH_FIRST"))
local count = tonumber(os.getenv("BENCH_COUNT"))
local n = 0

request = function()
  n = n + 1
  local number = string.format("2026%06d", first + n % count)
  return wrk.format("POST", wrk.path, {
    ["Accept"] = "text/html",
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, "student_number=" .. number .. "&password=Bench-password-2026")
end

-- A refused sign-in is a redirect too (back to the form, with its error): only the way
-- into the service hall counts, and anything else is printed for run.py as an error.
local threads = {}

function setup(thread)
  table.insert(threads, thread)
end

function init(args)
  not_ok = 0
end

function response(status, headers, body)
  if (status ~= 302 and status ~= 303) or headers["location"] ~= "/hall" then
    not_ok = not_ok + 1
  end
end

function done(summary, latency, requests)
  local total = 0
  for _, thread in ipairs(threads) do
    total = total + thread:get("not_ok")
  end
  io.write(string.format("answers other than a sign-in: %d\n", total))
end
