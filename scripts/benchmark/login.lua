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
-- into the service hall counts, and anything else is an error for run.py, except the
-- answer of a server with too many password checks waiting: back to the form with
-- Retry-After ("登录人数较多，请约 N 秒后再试"), counted apart.
dofile(os.getenv("BENCH_DIR") .. "/status.lua")
expected = "a sign-in"
served = function(status, headers)
  return (status == 302 or status == 303) and headers["location"] == "/hall"
end
told_to_retry = function(status, headers)
  return (status == 302 or status == 303) and headers["retry-after"] ~= nil
end
