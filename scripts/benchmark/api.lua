-- The clearance server function, as the page's code would call it.
dofile(os.getenv("BENCH_DIR") .. "/cookies.lua")
dofile(os.getenv("BENCH_DIR") .. "/status.lua")

request = function()
  return wrk.format("POST", wrk.path, {
    ["Accept"] = "application/json",
    ["Accept-Encoding"] = "br, gzip",
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie(),
  }, "")
end
