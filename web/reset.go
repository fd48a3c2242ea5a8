package web

import (
	"context"
	"net/netip"
	"sync"
	"time"
)

// Password-reset requests are answered before anything about the address
// is looked up: the request checks the form and the limits below, queues
// the request and renders the same page, so that its time does not tell
// whether the email has an account (an SMTP round trip, a token row and an
// audit row happen only for real accounts, and only in the background).
const (
	// ResetMailsPerEmail bounds the reset mails one address receives in
	// ResetLimitWindow; further requests for it are dropped silently (the
	// page is the same, so it tells nothing).
	ResetMailsPerEmail = 3
	// ResetRequestsPerClient bounds the reset requests one client address
	// (an IPv6 address's /64) may make in ResetLimitWindow; further ones
	// get 429.
	ResetRequestsPerClient = 10
	// ResetLimitWindow is the window of both limits.
	ResetLimitWindow = time.Hour
	// resetQueueSize bounds the requests waiting for the background
	// worker; beyond it requests are dropped (and logged).
	resetQueueSize = 256
)

// resetJob is one queued password-reset request.
type resetJob struct {
	email string
	base  string // the emailed link's scheme and host, "" when unknown
	ip    string
	at    time.Time
}

// windowLimit counts events per key in a sliding window, in memory (a
// restart forgets the counts).
type windowLimit struct {
	mu     sync.Mutex
	max    int
	window time.Duration
	seen   map[string][]time.Time
	pruned time.Time
}

// allow records an event for key at now and reports whether it is within
// the limit; a refused event is not recorded. It also returns when the
// oldest counted event leaves the window (the wait before the next one is
// allowed).
func (l *windowLimit) allow(key string, now time.Time) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.seen == nil {
		l.seen = map[string][]time.Time{}
	}
	if now.Sub(l.pruned) > l.window {
		for k, ts := range l.seen {
			if now.Sub(ts[len(ts)-1]) >= l.window {
				delete(l.seen, k)
			}
		}
		l.pruned = now
	}
	ts := l.seen[key]
	for len(ts) > 0 && now.Sub(ts[0]) >= l.window {
		ts = ts[1:]
	}
	if len(ts) >= l.max {
		l.seen[key] = ts
		return false, l.window - now.Sub(ts[0])
	}
	l.seen[key] = append(ts, now)
	return true, 0
}

// clientKey groups client addresses for a limit: an IPv4 address itself,
// an IPv6 address's /64 (one host may hold a whole /64).
func clientKey(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ip
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// queueReset queues a reset request. It reports false when the queue is
// full.
func (s *Server) queueReset(j resetJob) bool {
	select {
	case s.resets <- j:
		return true
	default:
		return false
	}
}

// Run works off the queued password-reset requests until ctx ends, then
// the ones still queued. Call it once, after Handler.
func (s *Server) Run(ctx context.Context) {
	for {
		select {
		case j := <-s.resets:
			s.mailReset(context.WithoutCancel(ctx), j)
		case <-ctx.Done():
			s.DrainMail(context.WithoutCancel(ctx))
			return
		}
	}
}

// DrainMail works off the queued password-reset requests now, returning
// when the queue is empty.
func (s *Server) DrainMail(ctx context.Context) {
	for {
		select {
		case j := <-s.resets:
			s.mailReset(ctx, j)
		default:
			return
		}
	}
}

// mailReset mails a reset link if the request's email has an account.
func (s *Server) mailReset(ctx context.Context, j resetJob) {
	u, err := s.Accounts.UserByEmail(ctx, j.email)
	switch {
	case isNotFound(err):
		return
	case err != nil:
		s.Logger.Error("web: password reset: user lookup", "err", err)
		return
	}
	token := randomToken()
	t := EmailToken{Hash: hashToken(token), UserID: u.ID, Purpose: purposeReset, Created: j.at.UnixNano(), Expires: j.at.Add(ResetLinkLifetime).UnixNano()}
	if err := s.Store.CreateEmailToken(ctx, t); err != nil {
		s.Logger.Error("web: password reset: token", "user", u.ID, "err", err)
		return
	}
	if err := s.Store.AddAudit(ctx, AuditEvent{UserID: u.ID, Time: j.at.UnixNano(), IP: j.ip, Action: "reset_requested"}); err != nil {
		s.Logger.Error("web: audit", "user", u.ID, "action", "reset_requested", "err", err)
	}
	if j.base != "" {
		s.sendMail(ctx, u.Email, "Reset your Twinex password", resetMail(withToken(j.base+"/reset", token)))
	}
}

// resetLimited reports whether a reset request for email from ip is over
// a limit: for the client, with the wait before it may ask again (429);
// for the email, silently.
func (s *Server) resetLimited(email, ip string, now time.Time) (client bool, wait time.Duration, mail bool) {
	if ok, wait := s.resetByClient.allow(clientKey(ip), now); !ok {
		return true, wait, false
	}
	ok, _ := s.resetByEmail.allow(email, now)
	return false, 0, !ok
}
