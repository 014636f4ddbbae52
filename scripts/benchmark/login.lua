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
-- into the service hall counts, and anything else is an error for run.py.
dofile(os.getenv("BENCH_DIR") .. "/status.lua")
expected = "a sign-in"
served = function(status, headers)
  return (status == 302 or status == 303) and headers["location"] == "/hall"
end
