-- The signed-in clearance page, as a browser asks for it (compressed, as phones take it).
dofile(os.getenv("BENCH_DIR") .. "/cookies.lua")
dofile(os.getenv("BENCH_DIR") .. "/status.lua")

request = function()
  return wrk.format("GET", wrk.path, {
    ["Accept"] = "text/html,application/xhtml+xml",
    ["Accept-Encoding"] = "br, gzip",
    ["Cookie"] = cookie(),
  })
end
