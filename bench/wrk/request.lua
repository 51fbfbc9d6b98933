-- Sends every request with the method, headers and body given in the environment:
-- WRK_METHOD, WRK_TOKEN (Bearer), WRK_BODY (JSON). Keeps wrk scenarios declarative.
local method = os.getenv("WRK_METHOD") or "GET"
local token = os.getenv("WRK_TOKEN")
local body = os.getenv("WRK_BODY")

wrk.method = method
if token and token ~= "" then
  wrk.headers["Authorization"] = "Bearer " .. token
end
if body and body ~= "" then
  wrk.body = body
  wrk.headers["Content-Type"] = "application/json"
end
