// Package metrics exposes Twinex's figures in the Prometheus text format
// (prometheus/client_golang): HTTP requests by endpoint group, status and
// Gemini reason with latencies, signed requests refused by reason, the
// sequencer's queue, batches and commit times, the activity log, the
// WebSocket feeds, the simulator, open orders and book depth per market,
// alerts by rule, and the Go runtime. Every name starts with twinex_, and
// label values come from small fixed sets (never key ids or addresses).
package metrics

import (
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds the collectors. Its methods are safe for concurrent use.
type Metrics struct {
	reg *prometheus.Registry

	requests      *prometheus.CounterVec
	latency       *prometheus.HistogramVec
	signedRefused *prometheus.CounterVec
	batchCommands prometheus.Histogram
	applySeconds  prometheus.Histogram
	commitSeconds prometheus.Histogram
	commitFailed  prometheus.Counter
	logRecords    prometheus.Counter
	logWrite      prometheus.Histogram
	alerts        *prometheus.CounterVec

	mu     sync.RWMutex
	series map[seriesKey]*series // resolved label sets of Request, so a request costs no label hashing
}

type seriesKey struct {
	group  string
	status int
	reason string
	signed bool
}

type series struct {
	requests prometheus.Counter
	latency  prometheus.Observer
	refused  prometheus.Counter // nil unless a refused signed request
}

// New makes the collectors, with the Go runtime and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), series: map[seriesKey]*series{}}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "twinex_http_requests_total",
		Help: "HTTP requests answered, by endpoint group, status code and Gemini reason (\"\" when it succeeded).",
	}, []string{"group", "status", "reason"})
	m.latency = prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:    "twinex_http_request_duration_seconds",
		Help:    "Time to answer an HTTP request, by endpoint group (WebSocket upgrades: until the upgrade).",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5},
	}, []string{"group"})
	m.signedRefused = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "twinex_signed_requests_refused_total",
		Help: "Requests naming an API key that were refused, by Gemini reason.",
	}, []string{"reason"})
	m.batchCommands = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "twinex_sequencer_batch_commands",
		Help:    "Commands per sequencer batch (one store commit each).",
		Buckets: []float64{1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024},
	})
	m.applySeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "twinex_sequencer_apply_seconds",
		Help:    "Time the sequencer took to apply a batch to the books and the ledger.",
		Buckets: []float64{.00001, .00005, .0001, .0005, .001, .005, .01, .05},
	})
	m.commitSeconds = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "twinex_store_commit_seconds",
		Help:    "Time the store took to make a batch durable.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.commitFailed = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "twinex_store_commit_failures_total",
		Help: "Batches the store failed to commit (the exchange stops taking commands).",
	})
	m.logRecords = prometheus.NewCounter(prometheus.CounterOpts{
		Name: "twinex_activity_records_written_total",
		Help: "API activity log records written.",
	})
	m.logWrite = prometheus.NewHistogram(prometheus.HistogramOpts{
		Name:    "twinex_activity_write_seconds",
		Help:    "Time to write one batch of activity log records.",
		Buckets: []float64{.0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1},
	})
	m.alerts = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "twinex_alerts_raised_total",
		Help: "Alerts raised, by rule.",
	}, []string{"rule"})
	m.reg.MustRegister(m.requests, m.latency, m.signedRefused, m.batchCommands, m.applySeconds, m.commitSeconds,
		m.commitFailed, m.logRecords, m.logWrite, m.alerts,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Handler serves the metrics in the Prometheus text format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Request counts an answered HTTP request. signed tells whether it named
// an API key; a refused one (status 400 and up) is counted by reason too.
func (m *Metrics) Request(group string, status int, reason string, signed bool, took time.Duration) {
	k := seriesKey{group, status, reason, signed && status >= 400}
	m.mu.RLock()
	s := m.series[k]
	m.mu.RUnlock()
	if s == nil {
		s = &series{requests: m.requests.WithLabelValues(group, strconv.Itoa(status), reason), latency: m.latency.WithLabelValues(group)}
		if k.signed {
			if reason == "" {
				reason = "unknown"
			}
			s.refused = m.signedRefused.WithLabelValues(reason)
		}
		m.mu.Lock()
		m.series[k] = s // the label sets are few: groups x statuses x Gemini reasons
		m.mu.Unlock()
	}
	s.requests.Inc()
	s.latency.Observe(took.Seconds())
	if s.refused != nil {
		s.refused.Inc()
	}
}

// Batch records one sequencer batch.
func (m *Metrics) Batch(commands int, apply, commit time.Duration, failed bool) {
	m.batchCommands.Observe(float64(commands))
	m.applySeconds.Observe(apply.Seconds())
	m.commitSeconds.Observe(commit.Seconds())
	if failed {
		m.commitFailed.Inc()
	}
}

// ActivityBatch records one write of activity log records.
func (m *Metrics) ActivityBatch(records int, took time.Duration) {
	m.logRecords.Add(float64(records))
	m.logWrite.Observe(took.Seconds())
}

// AlertRules exports the alert counter of each rule at 0 before its first
// alert, so that a rate over it starts at the first one.
func (m *Metrics) AlertRules(rules ...string) {
	for _, r := range rules {
		m.alerts.WithLabelValues(r)
	}
}

// AlertRaised counts an alert of a rule (its kind).
func (m *Metrics) AlertRaised(rule string) { m.alerts.WithLabelValues(rule).Inc() }

// Gauge adds a gauge read at each scrape.
func (m *Metrics) Gauge(name, help string, read func() float64) {
	m.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: name, Help: help}, read))
}

// Counter adds a counter read at each scrape (read must not decrease).
func (m *Metrics) Counter(name, help string, read func() float64) {
	m.reg.MustRegister(prometheus.NewCounterFunc(prometheus.CounterOpts{Name: name, Help: help}, read))
}

// PerMarket adds a gauge with a "market" label, read at each scrape: read
// returns each market's value.
func (m *Metrics) PerMarket(name, help string, read func() map[string]float64) {
	m.reg.MustRegister(&perMarket{desc: prometheus.NewDesc(name, help, []string{"market"}, nil), read: read})
}

type perMarket struct {
	desc *prometheus.Desc
	read func() map[string]float64
}

func (p *perMarket) Describe(ch chan<- *prometheus.Desc) { ch <- p.desc }
func (p *perMarket) Collect(ch chan<- prometheus.Metric) {
	for market, v := range p.read() {
		ch <- prometheus.MustNewConstMetric(p.desc, prometheus.GaugeValue, v, market)
	}
}

// Group names the endpoint group of a request path, a small fixed set:
// market_data, orders, funds, account, websocket, admin, report, health
// and dashboard (everything else).
func Group(path string, upgrade bool) string {
	switch {
	case upgrade:
		return "websocket"
	case strings.HasPrefix(path, "/admin/"):
		return "admin"
	case strings.HasPrefix(path, "/secrets/"):
		return "report"
	case path == "/healthz" || path == "/readyz":
		return "health"
	case strings.HasPrefix(path, "/v1/order") || strings.HasPrefix(path, "/v1/mytrades") ||
		strings.HasPrefix(path, "/v1/tradevolume") || strings.HasPrefix(path, "/v1/notionalvolume") ||
		path == "/v1/heartbeat":
		return "orders"
	case strings.HasPrefix(path, "/v1/balances") || strings.HasPrefix(path, "/v1/notionalbalances") ||
		strings.HasPrefix(path, "/v1/transfers") || strings.HasPrefix(path, "/v2/transfers") ||
		strings.HasPrefix(path, "/v1/addresses") || strings.HasPrefix(path, "/v1/deposit") ||
		strings.HasPrefix(path, "/v1/withdraw") || strings.HasPrefix(path, "/v2/withdraw") ||
		strings.HasPrefix(path, "/v1/approvedAddresses") || strings.HasPrefix(path, "/v1/payments"):
		return "funds"
	case strings.HasPrefix(path, "/v1/account") || path == "/v1/roles" || path == "/v1/transactions":
		return "account"
	case strings.HasPrefix(path, "/v1/") || strings.HasPrefix(path, "/v2/"):
		return "market_data"
	}
	return "dashboard"
}
