-- The static baseline: a file of the clearance page's bytes, asked for as the page is
-- (the server compresses it on the fly, as it does the page).
dofile(os.getenv("BENCH_DIR") .. "/status.lua")

request = function()
  return wrk.format("GET", wrk.path, {
    ["Accept"] = "text/html,application/xhtml+xml",
    ["Accept-Encoding"] = "br, gzip",
  })
end
