-- wrk script for bench/gateway.sh: POSTs one OpenAI chat request to the URL's path.
-- BENCH_KEY: sent as "Authorization: Bearer KEY" when set.
-- BENCH_DELAY_MS: when > 0, each connection waits this long after an answer before its next
-- request (wrk's delay()), so N connections give about N * 1000 / (delay + latency) requests/s.
-- done() prints one line for the script to parse: counts, and latency percentiles in us.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"chat","messages":[{"role":"user","content":'
    .. '"Describe this photo in one sentence."}],"max_tokens":32}'

local key = os.getenv("BENCH_KEY")
if key and key ~= "" then
    wrk.headers["Authorization"] = "Bearer " .. key
end

local pause = tonumber(os.getenv("BENCH_DELAY_MS") or "0") or 0
if pause > 0 then
    function delay()
        return pause
    end
end

function done(summary, latency, requests)
    local e = summary.errors
    io.write(string.format(
        "BENCH requests=%d duration_us=%d p50_us=%d p90_us=%d p99_us=%d max_us=%d "
            .. "connect=%d read=%d write=%d timeout=%d status=%d\n",
        summary.requests, summary.duration, latency:percentile(50), latency:percentile(90),
        latency:percentile(99), latency.max, e.connect, e.read, e.write, e.timeout, e.status))
end
