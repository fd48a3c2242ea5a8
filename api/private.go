package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/ratelimit"
)

// scope says which keys may call an endpoint and on which account.
type scope uint8

const (
	// accountScope endpoints act on one account: an account key's own, or
	// the one a master key names in the payload's "account" field.
	accountScope scope = iota
	// groupScope endpoints act on the key's whole group (master keys) or
	// its account (account keys); "account" is not taken.
	groupScope
	// masterScope endpoints are for master keys only.
	masterScope
)

// signed is an authenticated private request.
type signed struct {
	key     twinex.APIKey
	entry   *keys.Entry
	payload payload
	user    int64
	account twinex.Account // the account acted on (accountScope); for account keys only ID and UserID are set
	use     twinex.KeyUse  // the key's use, made durable with state changes
	ip      netip.Addr
	counted bool // counted against the key's daily quota
	// durable is set by a handler whose command went through the
	// sequencer: use is then durable with its batch, and the key service
	// need not write it again.
	durable bool
}

// payload is a decoded X-GEMINI-PAYLOAD.
type payload map[string]json.RawMessage

// has reports whether a field is present and not null.
func (p payload) has(name string) bool {
	v, ok := p[name]
	return ok && string(v) != "null"
}

// str returns a string field ("" when absent); a non-string gives
// InvalidJson.
func (p payload) str(name string) (string, error) {
	if !p.has(name) {
		return "", nil
	}
	// The payload is valid JSON (auth.DecodePayload): a string without a
	// backslash is its bytes between the quotes.
	if v := p[name]; len(v) >= 2 && v[0] == '"' && bytes.IndexByte(v, '\\') < 0 {
		return string(v[1 : len(v)-1]), nil
	}
	var s string
	if err := json.Unmarshal(p[name], &s); err != nil {
		return "", twinex.Errorf(twinex.InvalidJson, "%s must be a string", name)
	}
	return s, nil
}

// decimal returns a decimal field given as a JSON string or number, as text.
func (p payload) decimal(name string) (string, bool) {
	if !p.has(name) {
		return "", false
	}
	var d requestDecimal
	if err := d.UnmarshalJSON(p[name]); err != nil {
		return "", false
	}
	return d.String(), true
}

// int returns an integer field given as a JSON string or number.
func (p payload) int(name string) (int64, bool, error) {
	s, ok := p.decimal(name)
	if !ok {
		if p.has(name) {
			return 0, true, twinex.Errorf(twinex.InvalidJson, "%s must be an integer", name)
		}
		return 0, false, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, true, twinex.Errorf(twinex.InvalidJson, "%s must be an integer", name)
	}
	return v, true, nil
}

// bool returns a boolean field (false when absent).
func (p payload) bool(name string) (bool, error) {
	if !p.has(name) {
		return false, nil
	}
	var b bool
	if err := json.Unmarshal(p[name], &b); err != nil {
		return false, twinex.Errorf(twinex.InvalidJson, "%s must be a boolean", name)
	}
	return b, nil
}

type signedHandler func(w http.ResponseWriter, r *http.Request, c *signed) error

// private registers a signed POST endpoint that needs one of roles (0: any
// role) with the given scope.
func (s *Server) private(pattern string, roles twinex.Role, sc scope, h signedHandler) {
	s.signedRoute(pattern, roles, sc, nil, h)
}

// privateWrite registers a signed endpoint that changes state: a
// time-based key may not send the same signed request to it twice.
func (s *Server) privateWrite(pattern string, roles twinex.Role, sc scope, h signedHandler) {
	s.signedRoute(pattern, roles, sc, func(*http.Request) bool { return true }, h)
}

// privateWriteIf is privateWrite for a pattern that serves reads too:
// write tells the requests that change state.
func (s *Server) privateWriteIf(pattern string, roles twinex.Role, sc scope, write func(*http.Request) bool, h signedHandler) {
	s.signedRoute(pattern, roles, sc, write, h)
}

// signedRoute registers a signed endpoint. For a request that changes
// state (write), the replay mark of a time-based key is taken last, after
// every check that could refuse the request (roles, account, injected
// faults, rate limits, quota): a request refused before it could apply
// anything may be sent again as it was.
func (s *Server) signedRoute(pattern string, roles twinex.Role, sc scope, write func(*http.Request) bool, h signedHandler) {
	s.mux.Handle("POST "+pattern, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		at, start := s.now(), time.Now() // the record's stamp, and its latency on the monotonic clock
		c, err := s.authenticate(r, roles, sc)
		if err == nil {
			err = s.injectFault(w, r, c)
		}
		if err == nil {
			err = s.limitQueued(w, r, s.PrivateLimit, c.key.ID)
		}
		if err == nil {
			err = s.takeQuota(w, r, c)
		}
		if err == nil && write != nil && write(r) {
			c.use, err = s.Keys.Once(c.entry, c.use, r.Header.Get("X-GEMINI-SIGNATURE"), s.now())
		}
		if err == nil {
			err = h(w, r, c)
			if c.durable {
				s.Keys.Durable(c.entry, c.use.Seq)
			}
		}
		if err != nil {
			s.writeError(w, r, err)
		}
		s.recordAt(r, c, err, at, time.Since(start))
	}))
}

// authenticate runs Gemini's checks in the safe order (reference §1.3):
// nothing in the payload is trusted until the signature checks out.
func (s *Server) authenticate(r *http.Request, roles twinex.Role, sc scope) (*signed, error) { // long: Gemini's checks in their one safe order; split, the order would be harder to see
	keyID := r.Header.Get("X-GEMINI-APIKEY")
	b64 := r.Header.Get("X-GEMINI-PAYLOAD")
	sig := r.Header.Get("X-GEMINI-SIGNATURE")
	switch {
	case keyID == "":
		return nil, twinex.Errorf(twinex.MissingApikeyHeader, "Must provide 'X-GEMINI-APIKEY' header")
	case b64 == "":
		return nil, twinex.Errorf(twinex.MissingPayloadHeader, "Must provide 'X-GEMINI-PAYLOAD' header")
	case sig == "":
		return nil, twinex.Errorf(twinex.MissingSignatureHeader, "Must provide 'X-GEMINI-SIGNATURE' header")
	}
	now := s.now()
	// An unknown, revoked or expired key fails like a bad signature: the
	// caller learns nothing about which keys exist.
	badSig := twinex.Errorf(twinex.InvalidSignature, "InvalidSignature")
	ip := auth.ClientIP(r, s.TrustedProxies)
	if s.overUnknownLimit(r.Context(), ip, keyID, now) {
		return nil, droppedUnknown()
	}
	if !auth.ValidKeyID(keyID) {
		s.unknownKey(ip, now)
		return nil, badSig
	}
	e, err := s.Keys.Lookup(r.Context(), keyID)
	if errors.Is(err, twinex.ErrNotFound) {
		s.unknownKey(ip, now)
		return nil, badSig
	}
	if err != nil {
		return nil, err
	}
	if !e.Verify(b64, sig, now) {
		return nil, badSig
	}
	key := e.Key()
	if !key.Active(now.UnixNano()) {
		return nil, badSig
	}
	fields, err := auth.DecodePayload(b64)
	if err != nil {
		return nil, err
	}
	p := payload(fields)
	reqPath, err := p.str("request")
	if err != nil {
		return nil, err
	}
	if reqPath == "" {
		return nil, twinex.Errorf(twinex.MissingPayloadKey, "The payload has no 'request' field")
	}
	if path, _, _ := strings.Cut(reqPath, "?"); path != r.URL.Path {
		return nil, twinex.Errorf(twinex.EndpointMismatch, "EndpointMismatch: the payload's request %q is not the path %q", reqPath, r.URL.Path)
	}
	if !p.has("nonce") {
		return nil, twinex.Errorf(twinex.MissingNonce, "The payload has no 'nonce' field")
	}
	nonce, err := auth.ParseNonce(p["nonce"])
	if err != nil {
		return nil, err
	}
	// The allowlist is checked before the nonce is accepted: a request from
	// elsewhere must not move the key's nonce mark (someone holding a
	// leaked secret could otherwise lock its owner out with a huge nonce)
	// nor keep its heartbeat alive.
	if !e.Allows(ip) {
		s.Logger.Warn("api key used from an address outside its allowlist", "key", key.ID, "ip", ip.String())
		return nil, twinex.Errorf(twinex.RemoteAddressForbidden, "IP address %s is not allowed for this API key", ip)
	}
	use, err := s.Keys.Accept(e, nonce, now, ip.String())
	if err != nil {
		return nil, err
	}
	if roles != 0 && !key.Roles.HasAny(roles) {
		return nil, twinex.Errorf(twinex.MissingRole, "%s", twinex.MissingRoleMessage(roles, key.ID, key.Roles))
	}
	c := &signed{key: key, entry: e, payload: p, user: key.UserID, use: use, ip: ip}
	if err := s.scopeAccount(r.Context(), c, sc); err != nil {
		return nil, err
	}
	return c, nil
}

// scopeAccount applies Gemini's rules for the "account" field (§1.5).
func (s *Server) scopeAccount(ctx context.Context, c *signed, sc scope) error {
	name, err := c.payload.str("account")
	if err != nil {
		return err
	}
	if !c.key.Master {
		if sc == masterScope {
			return twinex.Errorf(twinex.MissingRole, "This endpoint needs a master API key")
		}
		if name != "" {
			// Gemini's spec marks "account" required on /v1/balances and its
			// official SDK always sends it (as "" when the caller set none),
			// while its error table refuses it on account keys
			// (AccountsOnGroupOnlyApi). Both hold when an account key may
			// leave it empty or restate its own account: that is accepted on
			// every account-scoped endpoint, and any other name (or a name
			// on a group endpoint) is still refused (README, decisions).
			if sc == accountScope {
				a, err := s.accts.account(ctx, s.Accounts, c.key.AccountID)
				if err != nil {
					return err
				}
				if a.Nickname == name {
					c.account = a
					return nil
				}
			}
			return twinex.Errorf(twinex.AccountsOnGroupOnlyApi, "The account field was specified on a non-master API key")
		}
		// The key names its account; reading the rest of the record on
		// every request would cost a query per order.
		c.account = twinex.Account{ID: c.key.AccountID, UserID: c.key.UserID}
		return nil
	}
	if sc != accountScope {
		return nil
	}
	if name == "" {
		return twinex.Errorf(twinex.MissingAccounts, "A required account field was not specified")
	}
	a, ok, err := s.accts.named(ctx, s.Accounts, c.key.UserID, name)
	if err != nil {
		return err
	}
	if ok {
		c.account = a
		return nil
	}
	return twinex.Errorf(twinex.InvalidAccountName, "Expected a JSON array with valid accounts, instead got: %s", name)
}

// touch makes the request's nonce mark durable before a state change made
// outside the sequencer (which would otherwise carry it in the change's own
// batch), so a replay after a crash cannot repeat an acknowledged change.
func (s *Server) touch(ctx context.Context, c *signed) error {
	return s.Accounts.TouchKeys(context.WithoutCancel(ctx), []twinex.KeyUse{c.use})
}

// quotaExempt are the requests a key may always make, and that do not count
// against its quota: pulling orders off the book, and the heartbeat that
// keeps them from being cancelled. A key out of quota must still be able to
// get out of the market.
var quotaExempt = map[string]bool{
	"/v1/order/cancel":         true,
	"/v1/order/cancel/session": true,
	"/v1/order/cancel/all":     true,
	"/v1/heartbeat":            true,
}

// takeQuota counts the request against its key's daily quota, or answers
// 429 RateLimit with a Retry-After header when the quota is used up.
func (s *Server) takeQuota(w http.ResponseWriter, r *http.Request, c *signed) error {
	if s.Quota == nil || quotaExempt[r.URL.Path] {
		return nil
	}
	wait, err := s.Quota.Take(r.Context(), c.key, s.now())
	if err != nil {
		if twinex.ErrorReason(err) == twinex.RateLimit {
			w.Header().Set("Retry-After", strconv.Itoa(ratelimit.RetryAfterSeconds(wait)))
		}
		return err
	}
	c.counted = true
	return nil
}

// Recorder receives the activity log's records (activity.Recorder).
type Recorder interface{ Record(twinex.Activity) }

// recordAt logs a request that named an API key, stamped at and taking
// took. A key that does not exist is logged with UserID 0, for the
// operator.
func (s *Server) recordAt(r *http.Request, c *signed, err error, at time.Time, took time.Duration) {
	if s.Activity == nil {
		return
	}
	keyID := r.Header.Get("X-GEMINI-APIKEY")
	if keyID == "" || errors.Is(err, errUnknownDropped) {
		return
	}
	a := twinex.Activity{Time: at.UnixNano(), KeyID: truncate(keyID, 64), Method: r.Method, Path: truncate(r.URL.Path, 200),
		Status: http.StatusOK, Latency: took.Microseconds()}
	var ip netip.Addr
	if c != nil {
		ip = c.ip // authenticate parsed it already
	} else {
		ip = auth.ClientIP(r, s.TrustedProxies)
	}
	if ip.IsValid() {
		a.IP = ip.String()
	}
	if c != nil {
		a.Authenticated, a.Counted = true, c.counted
		a.UserID, a.AccountID = c.key.UserID, c.account.ID
		if a.AccountID == 0 {
			a.AccountID = c.key.AccountID
		}
	} else if !auth.ValidKeyID(keyID) {
		// Never a key: nothing to look up.
	} else if e, lerr := s.Keys.Lookup(r.Context(), keyID); lerr == nil {
		k := e.Key()
		a.UserID, a.AccountID = k.UserID, k.AccountID
	}
	if err != nil {
		a.Reason = twinex.ErrorReason(bodyTooLarge(err))
		a.Status = HTTPStatus(a.Reason)
	}
	s.Activity.Record(a)
}

func truncate(s string, n int) string {
	if len(s) > n {
		return s[:n]
	}
	return s
}
