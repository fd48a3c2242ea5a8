// Package api is Twinex's HTTP adapter: the Gemini wire format, the admin
// API under /admin/v1 and the health check. Every error, on every path, is
// Gemini's {"result":"error","reason":...,"message":...} with the status of
// twinex.HTTPStatus; anything that is not a *twinex.Error becomes a 500
// System whose cause goes only to the log.
package api

import (
	"context"
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/accounts"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/exchange"
	"github.com/twinex/twinex/fault"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/openapi"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/ratelimit"
)

// Server serves the HTTP API. Core, Store, Accounts and AdminToken are
// required.
type Server struct {
	Core       *core.Core
	Store      twinex.ExchangeStore
	Accounts   twinex.AccountStore
	Keys       *keys.Service
	Addresses  twinex.AddressStore
	Identities twinex.IdentityStore
	// ApprovalWait is how long an approved withdrawal address waits before
	// it is active (Gemini's production hold is 7 days; the sandbox's 0).
	ApprovalWait time.Duration
	// Sandbox, when set, serves the sandbox controls (save, restore, reset).
	Sandbox    SandboxControls
	AdminToken string
	// ActivityLog serves the activity log to the admin API.
	ActivityLog twinex.ActivityStore
	// Activity, when set, receives a record of every request that names an
	// API key.
	Activity Recorder
	// TrustedProxies are the peers whose X-Forwarded-For is believed; the
	// TCP peer is the client's address otherwise.
	TrustedProxies []netip.Prefix
	// PublicLimit limits public requests per client address, PrivateLimit
	// signed requests per API key (reference §4); nil means unlimited.
	PublicLimit, PrivateLimit *ratelimit.Limiter
	// Quota, when set, bounds each key's signed requests per day by its
	// owner's plan.
	Quota *quota.Service
	// Leaks, when set, handles secrets reported at /secrets/v1/report.
	Leaks  LeakHandler
	Logger *slog.Logger     // default: discard
	Now    func() time.Time // default time.Now
	Faults *fault.Injector  // sandbox fault injection; nil in production
	// Users creates users and accounts (the rules shared with the
	// dashboard and the sandbox).
	Users *accounts.Service
	// Exchange holds the rules shared with the dashboard (transfers,
	// cancels, fills); by default one over Core, Store and Accounts.
	Exchange *exchange.Service
	// Backups, when set with BackupDir (a private folder for the copies
	// while they are sent), serves GET /admin/v1/backup.
	Backups   Backups
	BackupDir string
	// Feed fans committed output out to the WebSocket feeds; nil answers
	// their upgrades with 404.
	Feed *feed.Hub
	// WSPerIP and WSPerKey limit open WebSocket connections per client
	// address and per API key (0: DefaultWSPerIP, DefaultWSPerKey).
	WSPerIP, WSPerKey int
	// Scenarios, when set, runs scripted market scenarios (sandbox only).
	Scenarios ScenarioControls
	// WSQueue is each connection's queue (0: DefaultWSQueue); WSHeartbeat
	// the feeds' heartbeat period (0: DefaultWSHeartbeat).
	WSQueue     int
	WSHeartbeat time.Duration

	mux     *http.ServeMux
	unknown *unknownKeys
	accts   accountCache
	wsMu    sync.Mutex
	wsByIP  map[string]int
	wsByKey map[string]int
	wsLive  sync.WaitGroup // open WebSocket connections
}

// MaxBodyBytes bounds request bodies.
const MaxBodyBytes = 1 << 20

// Handler returns the server's root handler.
func (s *Server) Handler() http.Handler {
	if s.Logger == nil {
		s.Logger = slog.New(slog.DiscardHandler)
	}
	if s.Users == nil {
		s.Users = &accounts.Service{Store: s.Accounts, Now: func() time.Time { return s.now() }}
	}
	if s.Exchange == nil {
		s.Exchange = &exchange.Service{Core: s.Core, Store: s.Store, Accounts: s.Accounts}
	}
	s.mux = http.NewServeMux()
	s.unknown = newUnknownKeys()
	s.mux.HandleFunc("GET /healthz", s.healthz)
	s.mux.HandleFunc("GET /readyz", s.readyz)
	s.mux.Handle("GET /openapi.json", openapi.Handler())
	s.routeAdmin()
	s.routePublic()
	s.routeAccounts()
	s.routePrivate()
	s.routeKeys()
	s.routeHistory()
	s.routeMaster()
	s.routeSandbox()
	s.routeBackup()
	s.routeScenario()
	s.routeKYC()
	s.routeFaults()
	s.routeActivity()
	s.routeReport()
	s.routePlans()
	s.routeWS()
	s.mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		s.writeError(w, r, twinex.Errorf(twinex.EndpointNotFound, "API entry point `%s` not found", r.URL.Path))
	})
	return s.recoverer(s.publicFaults(s.mux))
}

// limitKey is the public rate limit's key for a client: its IPv4 address,
// or its IPv6 /64, since one IPv6 client holds a whole /64 and could rotate
// through it.
func limitKey(ip netip.Addr) string {
	if ip.Is6() && !ip.Is4In6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.Unmap().String()
}

// limit takes one request of key from l, or answers 429 RateLimit with a
// Retry-After header.
func (s *Server) limit(w http.ResponseWriter, l *ratelimit.Limiter, key string) error {
	if l == nil {
		return nil
	}
	ok, wait := l.Allow(key, s.now())
	if ok {
		return nil
	}
	return tooFrequent(w, wait)
}

// limitQueued takes one request of key from l with Gemini's queue (reference
// §4): within the allowance it goes on at once; past it, up to the limit's
// Burst requests wait until the allowance has refilled for them, then go
// on; beyond those, 429 RateLimit with a Retry-After header. A queued
// request whose client goes away stops waiting.
func (s *Server) limitQueued(w http.ResponseWriter, r *http.Request, l *ratelimit.Limiter, key string) error {
	if l == nil {
		return nil
	}
	delay, ok, wait := l.Take(key, s.now())
	if !ok {
		return tooFrequent(w, wait)
	}
	if delay > 0 {
		t := time.NewTimer(delay)
		defer t.Stop()
		select {
		case <-t.C:
		case <-r.Context().Done():
			return tooFrequent(w, delay)
		}
	}
	return nil
}

// tooFrequent is the 429 RateLimit answer, with the Retry-After header.
func tooFrequent(w http.ResponseWriter, wait time.Duration) error {
	secs := ratelimit.RetryAfterSeconds(wait)
	w.Header().Set("Retry-After", strconv.Itoa(secs))
	return twinex.Errorf(twinex.RateLimit, "Requests were made too frequently; retry after %d seconds", secs)
}

func (s *Server) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// recoverer turns a panic into a logged 500 System.
func (s *Server) recoverer(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		defer func() {
			if v := recover(); v != nil {
				if v == http.ErrAbortHandler {
					panic(v)
				}
				s.Logger.Error("panic serving request", "method", r.Method, "path", r.URL.Path, "panic", v)
				s.writeError(w, r, errors.New("panic"))
			}
		}()
		r.Body = http.MaxBytesReader(w, r.Body, MaxBodyBytes)
		if r.Method == http.MethodGet && (strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/v2/")) {
			if err := s.limitQueued(w, r, s.PublicLimit, limitKey(auth.ClientIP(r, s.TrustedProxies))); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	if err := s.Core.Err(); err != nil {
		s.Logger.Error("health check failing", "err", err)
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "failed", "reason": "the exchange stopped after a storage failure; restart it"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz answers 200 when the server can take orders: recovery is done (it
// is, once requests reach the handler), the sequencer runs, and a command
// goes through the commit pipeline within 2 seconds. Otherwise 503, with
// why. /healthz stays a liveness check.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) {
	if err := s.Core.Err(); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "failed", "reason": "the exchange stopped after a storage failure; restart it"})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), 2*time.Second)
	defer cancel()
	if err := s.Core.Sync(ctx); err != nil {
		writeJSON(w, http.StatusServiceUnavailable, map[string]string{"status": "not ready", "reason": "the store did not commit within 2 seconds"})
		return
	}
	writeJSON(w, http.StatusOK, map[string]string{"status": "ready"})
}

// errorBody is Gemini's error object.
type errorBody struct {
	Result  string `json:"result"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// writeError renders err as Gemini's error object. Causes of System errors
// are logged, never sent.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	err = bodyTooLarge(err)
	reason := twinex.ErrorReason(err)
	status := HTTPStatus(reason)
	if ri := twinex.RequestInfoOf(r.Context()); ri != nil {
		ri.Reason = reason
	}
	if status >= 500 && !twinex.NoteFailure(r.Context(), err) {
		s.Logger.Error("request failed", "method", r.Method, "path", r.URL.Path, "status", status, "err", err)
	}
	writeJSON(w, status, errorBody{Result: "error", Reason: reason, Message: twinex.ErrorMessage(err)})
}

// bodyTooLarge turns a request body over its limit into InvalidJson.
func bodyTooLarge(err error) error {
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return twinex.Errorf(twinex.InvalidJson, "Request body too large")
	}
	return err
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	if o, ok := v.(orderReply); ok && o.Trades == nil {
		// The answer of every signed order and cancel, without reflection.
		w.Write(append(o.appendJSON(make([]byte, 0, 512)), '\n'))
		return
	}
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}
