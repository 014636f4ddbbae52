-- The signed-in clearance page, as a browser asks for it.
dofile(os.getenv("BENCH_DIR") .. "/cookies.lua")

request = function()
  return wrk.format("GET", wrk.path, {
    ["Accept"] = "text/html,application/xhtml+xml",
    ["Cookie"] = cookie(),
  })
end
