-- The clearance server function, as the page's code would call it.
dofile(os.getenv("BENCH_DIR") .. "/cookies.lua")

request = function()
  return wrk.format("POST", wrk.path, {
    ["Accept"] = "application/json",
    ["Content-Type"] = "application/x-www-form-urlencoded",
    ["Cookie"] = cookie(),
  }, "")
end
