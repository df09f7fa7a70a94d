-- wrk script for scripts/soak.sh: scrape as Prometheus does (OpenMetrics preferred,
-- gzip), and print the figures on one machine-readable line at the end.
wrk.method = "GET"
wrk.headers["Accept"] = "application/openmetrics-text;version=1.0.0,"
  .. "application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1"
wrk.headers["Accept-Encoding"] = "gzip"

done = function(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    "SOAK requests=%d bytes=%d duration_s=%.3f connect=%d read=%d write=%d status=%d "
      .. "timeout=%d p50_ms=%.2f p99_ms=%.2f max_ms=%.2f\n",
    summary.requests, summary.bytes, summary.duration / 1e6, e.connect, e.read, e.write,
    e.status, e.timeout, latency:percentile(50) / 1e3, latency:percentile(99) / 1e3,
    latency.max / 1e3))
end
