package web

import (
	"context"
	"net/netip"
	"time"

	"github.com/twinex/twinex/ratelimit"
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
	addr, _ := netip.ParseAddr(ip)
	if ok, wait := s.resetByClient.Allow(ratelimit.ClientKey(addr), now); !ok {
		return true, wait, false
	}
	ok, _ := s.resetByEmail.Allow(email, now)
	return false, 0, !ok
}
