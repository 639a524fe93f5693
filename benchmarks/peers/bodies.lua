-- wrk script of `make bench-peers`: each request POSTs one of the JSON bodies of the file
-- named after `--` (one a line), drawn at random, so requests carry different values.
local bodies = {}

function init(args)
  for line in io.lines(args[1]) do
    bodies[#bodies + 1] = line
  end
end

wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"

function request()
  return wrk.format(nil, nil, nil, bodies[math.random(#bodies)])
end
