//! The exporter's own HTTP serving: requests by handler and status code, requests in
//! flight, and bytes of response bodies by handler. The handler is one of a fixed set,
//! never the path or method a client sent, so a client cannot make series.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::Registry;

/// What served a request: the telemetry path, the status page, the probes, the reload
/// endpoint, or anything else (404s, and so on).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Handler {
    Metrics,
    Landing,
    Healthy,
    Ready,
    Reload,
    Other,
}

impl Handler {
    fn label(self) -> &'static str {
        match self {
            Self::Metrics => "metrics",
            Self::Landing => "landing",
            Self::Healthy => "healthy",
            Self::Ready => "ready",
            Self::Reload => "reload",
            Self::Other => "other",
        }
    }
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct RequestLabels {
    handler: &'static str,
    code: u16,
}

#[derive(Clone, Debug, Hash, PartialEq, Eq, EncodeLabelSet)]
struct HandlerLabels {
    handler: &'static str,
}

/// Cheap to clone; every clone counts into the same series.
#[derive(Clone, Debug, Default)]
pub(crate) struct HttpMetrics {
    requests: Family<RequestLabels, Counter>,
    in_flight: Gauge,
    response_bytes: Family<HandlerLabels, Counter>,
}

impl HttpMetrics {
    /// Creates the metrics and registers them in `registry`.
    pub(crate) fn register(registry: &mut Registry) -> Self {
        let http = Self::default();
        registry.register(
            "cognito_exporter_http_requests",
            "HTTP requests served, by handler and status code",
            http.requests.clone(),
        );
        registry.register(
            "cognito_exporter_http_requests_in_flight",
            "HTTP requests being served",
            http.in_flight.clone(),
        );
        registry.register(
            "cognito_exporter_http_response_size_bytes",
            "Bytes of HTTP response bodies, by handler (after compression; none for HEAD)",
            http.response_bytes.clone(),
        );
        http
    }

    /// A request begins; it is in flight until the guard is dropped.
    pub(crate) fn begin(&self) -> InFlight {
        self.in_flight.inc();
        InFlight(self.in_flight.clone())
    }

    /// A request was answered with `code` and a body of `bytes`.
    pub(crate) fn answered(&self, handler: Handler, code: u16, bytes: u64) {
        let handler = handler.label();
        self.requests
            .get_or_create(&RequestLabels { handler, code })
            .inc();
        self.response_bytes
            .get_or_create(&HandlerLabels { handler })
            .inc_by(bytes);
    }
}

/// A request in flight.
#[derive(Debug)]
pub(crate) struct InFlight(Gauge);

impl Drop for InFlight {
    fn drop(&mut self) {
        self.0.dec();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn requests_count_by_handler_and_code_and_leave_flight_when_done() {
        let mut registry = Registry::default();
        let http = HttpMetrics::register(&mut registry);
        let first = http.begin();
        let second = http.begin();
        assert_eq!(http.in_flight.get(), 2);
        drop(first);
        http.answered(Handler::Metrics, 200, 1000);
        http.answered(Handler::Metrics, 200, 500);
        http.answered(Handler::Other, 404, 19);
        drop(second);
        assert_eq!(http.in_flight.get(), 0);
        let mut text = String::new();
        prometheus_client::encoding::text::encode(&mut text, &registry).expect("encodes");
        for line in [
            "cognito_exporter_http_requests_total{handler=\"metrics\",code=\"200\"} 2",
            "cognito_exporter_http_requests_total{handler=\"other\",code=\"404\"} 1",
            "cognito_exporter_http_response_size_bytes_total{handler=\"metrics\"} 1500",
            "cognito_exporter_http_requests_in_flight 0",
        ] {
            assert!(text.contains(line), "{line} in:\n{text}");
        }
    }
}
