package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"html"
	"io"
	"net/http"
	"os"
	"strings"
	"sync"
	"time"

	adminapi "github.com/twinex/twinex/admin"

	"github.com/twinex/twinex/postgres"
)

// Leader and standby (docs/POSTGRES.md): servers sharing one PostgreSQL
// database take turns holding a lease row. The holder leads: it recovers
// the exchange, runs the sequencer and serves. The others stand by: they
// answer /healthz with their role and the leader, everything else with 503,
// and poll the lease; when it lapses one of them takes it over with the
// next fencing token, which every commit of the exchange checks, so that a
// deposed leader can never commit. A leader that finds itself deposed, or
// whose commits fail, steps down: it closes its state (its memory of the
// exchange is discarded) and becomes a standby, which may lead again
// later, recovering from the database like any other.

// Default lease timings: a standby serves within about DefaultLeaseTTL +
// DefaultLeaseTTL/3 + the recovery of the leader's death.
const (
	DefaultLeaseTTL = 3 * time.Second
)

// Lease times the leadership on PostgreSQL.
type Lease struct {
	// TTL is how long a lease lasts unrenewed (by the database's clock):
	// how long a dead leader keeps the others waiting
	// (default DefaultLeaseTTL).
	TTL time.Duration
	// Every is how often the leader renews the lease and the standbys
	// look at it (default TTL/3).
	Every time.Duration
}

// role is this server's place among those sharing the database.
type role struct {
	mu      sync.Mutex
	leading bool
	token   int64
	renewed time.Time       // when the last successful renewal was sent (monotonic)
	leader  postgres.Leader // as last seen
}

func (r *role) get() (leading bool, token int64, renewed time.Time, l postgres.Leader) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.leading, r.token, r.renewed, r.leader
}

// shared is what a server on PostgreSQL keeps beside its state.
type shared struct {
	pgURL  string        // m.Store with this server's application_name
	holder string        // this server's name in the lease
	ctl    *postgres.DB  // the lease's connections
	role   role          //
	stop   func()        // stops the role loop
	done   chan struct{} // closed when the role loop has stopped
}

// newHolder names this server in the lease and in pg_stat_activity:
// twinex-HOST-PID-RANDOM.
func newHolder() string {
	host, _ := os.Hostname()
	if len(host) > 24 {
		host = host[:24]
	}
	var b [3]byte
	rand.Read(b[:])
	return fmt.Sprintf("twinex-%s-%d-%s", host, os.Getpid(), hex.EncodeToString(b[:]))
}

// openShared starts a server on PostgreSQL: it listens at once, then leads
// if the lease is free (recovering the exchange) or stands by, and keeps
// renewing or polling the lease in the background until Close.
func (m *App) openShared(ctx context.Context, start time.Time) error {
	if m.Lease.TTL <= 0 {
		m.Lease.TTL = DefaultLeaseTTL
	}
	if m.Lease.Every <= 0 {
		m.Lease.Every = m.Lease.TTL / 3
	}
	if m.Lease.Every >= m.Lease.TTL {
		return fmt.Errorf("--lease-every %v must be shorter than --lease-ttl %v", m.Lease.Every, m.Lease.TTL)
	}
	m.holder = newHolder()
	var err error
	if m.pgURL, err = postgres.WithAppName(m.Store, m.holder); err != nil {
		return err
	}
	if m.ctl, err = postgres.Open(ctx, m.pgURL); err != nil {
		return err
	}
	if err := m.listen(); err != nil {
		m.ctl.Close()
		return err
	}
	m.tick(ctx)
	m.serve()
	loop, stop := context.WithCancel(context.Background())
	m.shared.stop, m.shared.done = stop, make(chan struct{})
	go m.runRole(loop)
	leading, token, _, l := m.role.get()
	roleName := "standby"
	if leading {
		roleName = "leader"
	}
	m.Logger.Info("twinex serving", "addr", m.ln.Addr().String(), "data", m.DataDir, "store", m.storeName(), "role", roleName,
		"holder", m.holder, "leader", l.Holder, "token", token, "mode", m.Mode, "started_in", time.Since(start).Round(time.Millisecond))
	fmt.Fprintf(m.Stdout, "Twinex is serving on http://%s (store %s, %s, data in %s, %s mode)\n", m.ln.Addr(), m.storeName(), roleName, m.DataDir, m.Mode)
	return nil
}

// advertised is the address this server gives in the lease for the others
// to name: TWINEX_PUBLIC_URL, else its listening address.
func (m *App) advertised() string {
	if m.PublicURL != "" {
		return m.PublicURL
	}
	return "http://" + m.ln.Addr().String()
}

// runRole renews or polls the lease every Lease.Every until ctx ends.
func (m *App) runRole(ctx context.Context) {
	defer close(m.shared.done)
	t := time.NewTicker(m.Lease.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			m.tick(ctx)
		}
	}
}

// tick renews the lease of a leader (stepping down if it was deposed, could
// not renew for a whole TTL, or its exchange stopped after a failed
// commit), or has a standby try to take the lease over.
func (m *App) tick(ctx context.Context) {
	leading, token, renewed, _ := m.role.get()
	if !leading {
		m.tryLead(ctx)
		return
	}
	sent := time.Now()
	rctx, cancel := context.WithTimeout(ctx, m.Lease.TTL)
	err := m.ctl.Renew(rctx, token, m.Lease.TTL)
	cancel()
	switch {
	case errors.Is(err, postgres.ErrDeposed):
		m.stepDown("another server took the lease over", false)
		return
	case err != nil && ctx.Err() == nil:
		m.Logger.Warn("renewing the lease failed", "err", err)
		if time.Since(renewed) > m.Lease.TTL {
			m.stepDown("the lease could not be renewed for "+m.Lease.TTL.String(), true)
			return
		}
	case err == nil:
		m.role.mu.Lock()
		m.role.renewed = sent
		m.role.mu.Unlock()
	}
	m.mu.RLock()
	var cerr error
	if m.st != nil {
		cerr = m.st.core.Err()
	}
	m.mu.RUnlock()
	if cerr != nil {
		// Fenced: another server leads already. Otherwise (the database
		// went away, say) the lease is given up so that any server, this
		// one included, recovers afresh at once.
		m.stepDown("the exchange stopped: "+cerr.Error(), !errors.Is(cerr, postgres.ErrFenced))
	}
}

// tryLead takes the lease if it is free or lapsed, then recovers the
// exchange from the database and serves. The lease is renewed meanwhile,
// so that a long recovery does not lose it.
func (m *App) tryLead(ctx context.Context) {
	sent := time.Now()
	_, _, _, prev := m.role.get()
	// Every lease call is bounded: one on a connection that died without
	// a word would otherwise hold the role loop for many minutes.
	actx, cancel := context.WithTimeout(ctx, m.Lease.TTL)
	token, cur, err := m.ctl.Acquire(actx, m.holder, m.advertised(), m.Lease.TTL)
	cancel()
	if err != nil {
		if ctx.Err() == nil {
			m.Logger.Warn("reading the lease failed", "err", err)
		}
		return
	}
	m.role.mu.Lock()
	m.role.leader = cur
	m.role.mu.Unlock()
	if token == 0 {
		return
	}
	m.Logger.Info("took the lease; recovering the exchange from the database", "token", token, "previous", prev.Holder)
	m.role.mu.Lock()
	m.role.token, m.role.renewed = token, sent
	m.role.mu.Unlock()
	// The recovery is cut short if the lease cannot be renewed for a
	// whole TTL (a standby may lead by then): one stuck on a connection
	// that died without a word would otherwise hold the role loop.
	octx, lost := context.WithCancel(ctx)
	defer lost()
	recovered := make(chan struct{})
	go func() {
		t := time.NewTicker(m.Lease.Every)
		defer t.Stop()
		renewed := sent
		for {
			select {
			case <-recovered:
				return
			case <-t.C:
				at := time.Now()
				rctx, cancel := context.WithTimeout(ctx, m.Lease.TTL)
				err := m.ctl.Renew(rctx, token, m.Lease.TTL)
				cancel()
				switch {
				case err == nil:
					renewed = at
					m.role.mu.Lock()
					m.role.renewed = at
					m.role.mu.Unlock()
				case errors.Is(err, postgres.ErrDeposed) || time.Since(renewed) > m.Lease.TTL:
					lost()
				}
			}
		}
	}()
	start := time.Now()
	st, err := m.openState(octx, token)
	close(recovered)
	if err != nil {
		m.Logger.Error("recovering the exchange failed; giving the lease up", "err", err)
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), m.Lease.TTL)
		m.ctl.Resign(rctx, token)
		cancel()
		return
	}
	st.start(m.linkBase())
	m.mu.Lock()
	m.st, m.controls = st, st.handler
	m.mu.Unlock()
	m.role.mu.Lock()
	m.role.leading = true
	m.role.mu.Unlock()
	m.Logger.Info("leading: serving", "token", token, "recovered_in", time.Since(start).Round(time.Millisecond))
}

// stepDownWait bounds how long a step-down waits for the deposed state to
// close: past its own bounded drains (5 s for WebSockets, 10 s to mail the
// last alerts), only a connection that died without a word holds it.
const stepDownWait = 20 * time.Second

// stepDown stops leading: requests are answered as by a standby at once,
// the state is closed (its commits fail through the fence, so requests in
// flight get an error and never an acknowledgement) and its memory
// discarded; resign gives the lease up for a standby to take at once.
func (m *App) stepDown(why string, resign bool) {
	m.role.mu.Lock()
	m.role.leading = false
	token := m.role.token
	m.role.mu.Unlock()
	m.Logger.Error("stepping down: this server is a standby now", "why", why, "token", token)
	m.mu.Lock()
	st := m.st
	m.st = nil
	m.mu.Unlock()
	if st != nil {
		// When the database may be out of reach (resign: the lease could
		// not be renewed, or the exchange's writes failed other than
		// through the fence), the writes in flight are cut short rather
		// than waited for: a connection that died without a word would
		// hold them for many minutes. When another server took over, the
		// database answered, and they fail through the fence at once. The
		// rest of the close (a request's own write still holding a
		// connection of the pool, say) is waited for a bounded time only;
		// it then finishes in the background, its writes fenced.
		if resign {
			st.core.Abort()
		}
		closed := make(chan error, 1)
		go func() { closed <- st.close() }()
		select {
		case err := <-closed:
			if err != nil {
				m.Logger.Warn("closing the deposed state", "err", err)
			}
		case <-time.After(stepDownWait):
			m.Logger.Warn("closing the deposed state is taking long; going on as a standby meanwhile", "waited", stepDownWait)
			go func() {
				if err := <-closed; err != nil {
					m.Logger.Warn("closing the deposed state", "err", err)
				}
			}()
		}
	}
	if resign {
		ctx, cancel := context.WithTimeout(context.Background(), m.Lease.TTL)
		m.ctl.Resign(ctx, token)
		cancel()
	}
}

// closeShared stops the role loop and, once the state is closed, gives
// the lease up so that a standby takes over without waiting for it to
// lapse.
func (m *App) closeShared() {
	if m.ctl == nil {
		return
	}
	if m.shared.stop != nil {
		m.shared.stop()
		<-m.shared.done
	}
}

// resignShared gives up a lease still held at Close and closes the
// lease's connections.
func (m *App) resignShared() {
	if m.ctl == nil {
		return
	}
	if leading, token, _, _ := m.role.get(); leading {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		if err := m.ctl.Resign(ctx, token); err != nil {
			m.Logger.Warn("giving the lease up", "err", err)
		}
		cancel()
		m.role.mu.Lock()
		m.role.leading = false
		m.role.mu.Unlock()
	}
	m.ctl.Close()
}

// serving reports whether this server leads and renewed its lease within
// the TTL: a leader cut off from the database stops answering before it
// knows whether it was deposed.
func (m *App) serving() bool {
	leading, _, renewed, _ := m.role.get()
	return leading && time.Since(renewed) < m.Lease.TTL
}

// standbyMessage tells a client where the leader is.
func (m *App) standbyMessage() string {
	_, _, _, l := m.role.get()
	if l.Holder == "" || l.Holder == m.holder {
		return "This server is a standby and no leader is known yet; try again shortly."
	}
	return fmt.Sprintf("This server is a standby; the leader is %s at %s. Send requests there, or try again shortly.", l.Holder, l.Addr)
}

// serveStandby answers a request on a server that does not lead: the API,
// the admin API and the health checks in JSON (Gemini's 503 Maintenance),
// the dashboard with a page naming the leader.
func (m *App) serveStandby(w http.ResponseWriter, r *http.Request) {
	p := r.URL.Path
	msg := m.standbyMessage()
	w.Header().Set("Retry-After", "1")
	if strings.HasPrefix(p, "/v1/") || strings.HasPrefix(p, "/v2/") || strings.HasPrefix(p, "/admin/") || strings.HasPrefix(p, "/secrets/") ||
		p == "/readyz" || p == "/openapi.json" || r.Header.Get("Upgrade") != "" {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusServiceUnavailable)
		json.NewEncoder(w).Encode(map[string]string{"result": "error", "reason": "Maintenance", "message": msg})
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusServiceUnavailable)
	io.WriteString(w, `<!doctype html><html><head><meta charset="utf-8"><title>Twinex: standby</title></head><body><h1>This Twinex server is a standby</h1><p>`+
		html.EscapeString(msg)+`</p></body></html>`+"\n")
}

// healthz answers /healthz with the store and the role: 200 while this
// server leads and its exchange runs, or stands by; 503 when its exchange
// stopped after a failed commit.
func (m *App) healthz(w http.ResponseWriter) {
	body := adminapi.Health{Status: "ok", Store: m.storeName(), Role: "leader"}
	if m.ctl != nil {
		_, token, _, l := m.role.get()
		body.Holder = m.holder
		if l.Holder != "" {
			body.Leader, body.LeaderAddr = l.Holder, l.Addr
		}
		if !m.serving() {
			body.Role = "standby"
		} else {
			body.Token = token
		}
	}
	status := http.StatusOK
	if body.Role == "leader" {
		m.mu.RLock()
		switch {
		case m.st == nil: // a sandbox restore or reset failed
			status = http.StatusServiceUnavailable
			body.Status, body.Reason = "unavailable", "the exchange is undergoing maintenance"
		case m.st.core.Err() != nil:
			m.Logger.Error("health check failing", "err", m.st.core.Err())
			status = http.StatusServiceUnavailable
			body.Status, body.Reason = "failed", "the exchange stopped after a storage failure; restart it"
		}
		m.mu.RUnlock()
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(body)
}
