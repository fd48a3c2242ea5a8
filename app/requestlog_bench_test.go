package app

import (
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/twinex/twinex/metrics"
)

// BenchmarkRequestMiddleware measures what withRequestID adds to a request
// (the id, the status writer, and with metrics on, the counters and the
// latency histogram), against a handler that does nothing: the cost
// docs/PERFORMANCE.md compares with a signed order's.
func BenchmarkRequestMiddleware(b *testing.B) {
	noop := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusOK) })
	req := httptest.NewRequest("POST", "/v1/order/new", nil)
	req.Header.Set("X-GEMINI-APIKEY", "account-x")
	for _, c := range []struct {
		name    string
		metrics *metrics.Metrics
	}{{"bare", nil}, {"request-id", nil}, {"request-id+metrics", metrics.New()}} {
		b.Run(c.name, func(b *testing.B) {
			m := &App{Logger: slog.New(slog.DiscardHandler), metrics: c.metrics}
			h := http.Handler(noop)
			if c.name != "bare" {
				h = m.withRequestID(noop)
			}
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, req)
			}
		})
	}
}
