-- wrk script for the webhook benchmark: cycles through pre-signed, distinct Paystack events.
local signatures, bodies, next_index = {}, {}, 0

function init(args)
  for line in io.lines(args[1]) do
    local signature, body = line:match("^(%x+)\t(.*)$")
    signatures[#signatures + 1] = signature
    bodies[#bodies + 1] = body
  end
  next_index = tonumber(args[2]) or 0
end

function request()
  next_index = next_index % #bodies + 1
  return wrk.format("POST", nil, {
    ["Content-Type"] = "application/json",
    ["X-Paystack-Signature"] = signatures[next_index],
  }, bodies[next_index])
end
