-- Shared by the wrk scripts: the signed-in students' session cookies, one per line
-- (written by run.py), used in turn so that every request is a different student's.
local cookies = {}
for line in io.lines(os.getenv("BENCH_COOKIES")) do
  if line ~= "" then cookies[#cookies + 1] = line end
end
local next_cookie = 0

function cookie()
  next_cookie = next_cookie % #cookies + 1
  return cookies[next_cookie]
end
