-- wrk script for the benchmarks: cycles through a requests file (benchmarks/loadgen.py's request_line),
-- `Header: value|Header: value<TAB>body` per line, starting at a given line (so stored events stay new).
local requests, next_index = {}, 0

function init(args)
  for line in io.lines(args[1]) do
    local header_text, body = line:match("^([^\t]*)\t(.*)$")
    local headers = { ["Content-Type"] = "application/json" }
    for pair in header_text:gmatch("[^|]+") do
      local name, value = pair:match("^([^:]+):%s*(.*)$")
      headers[name] = value
    end
    requests[#requests + 1] = wrk.format("POST", nil, headers, body)
  end
  next_index = tonumber(args[2]) or 0
end

function request()
  next_index = next_index % #requests + 1
  return requests[next_index]
end
