package api

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/fault"
)

// Fault injection is a sandbox feature: a Server whose Faults is nil (a
// production server) has none of it, and its admin endpoints answer 404
// like any path that does not exist.

// maintenanceMessage is Gemini's message for reason Maintenance.
const maintenanceMessage = "The Gemini Exchange is currently undergoing maintenance. Please try again shortly."

func (s *Server) routeFaults() {
	s.mux.Handle("POST /admin/v1/faults", s.sandboxOnly(s.admin(s.adminAddFault)))
	s.mux.Handle("GET /admin/v1/faults", s.sandboxOnly(s.admin(s.adminListFaults)))
	s.mux.Handle("DELETE /admin/v1/faults", s.sandboxOnly(s.admin(s.adminClearFaults)))
	s.mux.Handle("DELETE /admin/v1/faults/{id}", s.sandboxOnly(s.admin(s.adminRemoveFault)))
}

// sandboxOnly answers EndpointNotFound, before any token check, when fault
// injection is off: the endpoint does not exist, as for any unknown path.
func (s *Server) sandboxOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Faults == nil {
			s.writeError(w, r, twinex.Errorf(twinex.EndpointNotFound, "API entry point `%s` not found", r.URL.Path))
			return
		}
		h.ServeHTTP(w, r)
	})
}

// AddFault applies a fault rule, whoever gives it (the admin API, a
// scenario): it drops the sockets it names now, and keeps the rule unless
// dropping sockets is all it does (an action, not a state: reconnecting
// sockets are welcome). Errors wrap fault.ErrInvalid for an invalid rule.
func (s *Server) AddFault(rule fault.Rule) (fault.Rule, error) {
	if s.Faults == nil {
		return rule, errors.New("fault injection is off")
	}
	dropOnly := rule.DropSockets && rule.Error == "" && rule.Latency == 0 && !rule.ExpireHeartbeat && rule.FrameDelay == 0 && !rule.StopHeartbeats
	if !dropOnly {
		var err error
		if rule, err = s.Faults.Add(rule); err != nil {
			return rule, err
		}
	}
	if rule.DropSockets && s.Feed != nil {
		n := s.Feed.DropKey(rule.Key, "sandbox fault: sockets dropped")
		s.Logger.Info("fault: sockets dropped", "key", rule.Key, "sockets", n)
	}
	return rule, nil
}

// adminAddFault adds a rule given as a fault.Spec and answers with the rule
// as stored (with its id). An invalid rule is 400 InvalidJson.
func (s *Server) adminAddFault(w http.ResponseWriter, r *http.Request) error {
	var spec fault.Spec
	if err := decodeBody(r, &spec); err != nil {
		return err
	}
	rule, err := spec.Rule()
	if err == nil && rule.Key != "" && !auth.ValidKeyID(rule.Key) {
		return twinex.Errorf(twinex.InvalidJson, "key %q is not an API key", rule.Key)
	}
	if err == nil {
		rule, err = s.AddFault(rule)
	}
	if errors.Is(err, fault.ErrInvalid) {
		return &twinex.Error{Reason: twinex.InvalidJson, Message: err.Error(), Err: err}
	}
	if err != nil {
		return err
	}
	s.Logger.Info("fault rule added", "rule", rule.ID, "key", rule.Key, "error", rule.Error, "count", rule.Count,
		"probability", rule.Probability, "latency", rule.Latency, "expire_heartbeat", rule.ExpireHeartbeat, "public", rule.Public,
		"drop_sockets", rule.DropSockets, "frame_delay", rule.FrameDelay, "stop_heartbeats", rule.StopHeartbeats)
	writeJSON(w, http.StatusOK, fault.SpecOf(rule))
	return nil
}

// adminListFaults lists the rules in the order they are tried, with their
// remaining counts.
func (s *Server) adminListFaults(w http.ResponseWriter, r *http.Request) error {
	out := []fault.Spec{}
	for _, rule := range s.Faults.List() {
		out = append(out, fault.SpecOf(rule))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) adminClearFaults(w http.ResponseWriter, r *http.Request) error {
	s.Faults.Clear()
	s.Logger.Info("fault rules cleared")
	writeJSON(w, http.StatusOK, resultOK)
	return nil
}

// adminRemoveFault removes one rule and answers with it; an unknown id is
// 404 EndpointNotFound.
func (s *Server) adminRemoveFault(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	rule, ok := s.Faults.Remove(id)
	if !ok {
		return twinex.Errorf(twinex.EndpointNotFound, "No fault rule %q", id)
	}
	s.Logger.Info("fault rule removed", "rule", rule.ID)
	writeJSON(w, http.StatusOK, fault.SpecOf(rule))
	return nil
}

// injectFault applies the first fault rule that fires for an authenticated
// signed request: the latency, then the heartbeat expiry, then the error,
// which is returned to answer instead of the handler (RateLimit, with
// Retry-After: 1; Maintenance; InvalidNonce, with Gemini's messages). It
// runs before the rate limit, so a faulted request spends none of it; the
// nonce was accepted, so the client retries with a new one, as after a
// real failure.
func (s *Server) injectFault(w http.ResponseWriter, r *http.Request, c *signed) error {
	if s.Faults == nil {
		return nil
	}
	e, ok := s.Faults.Match(c.key.ID, false)
	if !ok {
		return nil
	}
	s.markFault(r, c.key.ID, e)
	delay(r.Context(), e.Latency)
	if e.ExpireHeartbeat {
		s.expireHeartbeat(r.Context(), c.key)
	}
	return s.faultError(w, e, c)
}

// faultError returns the error a fault answers with, nil for none. c is
// the signed request, nil for a public one (which no InvalidNonce rule
// matches).
func (s *Server) faultError(w http.ResponseWriter, e fault.Effect, c *signed) error {
	switch e.Error {
	case twinex.RateLimit:
		w.Header().Set("Retry-After", "1")
		return twinex.Errorf(twinex.RateLimit, "Requests were made too frequently; retry after 1 seconds")
	case twinex.Maintenance:
		return twinex.Errorf(twinex.Maintenance, "%s", maintenanceMessage)
	case twinex.InvalidNonce:
		if c != nil {
			return s.nonceFault(c)
		}
	}
	return nil
}

// nonceFault is the InvalidNonce Gemini gives for the request's nonce: a
// session-nonce key's nonce "has not increased", a time-based key's is
// "not within 30 seconds of server time".
func (s *Server) nonceFault(c *signed) error {
	n, err := auth.ParseNonce(c.payload["nonce"])
	if err != nil { // unreachable: authenticate parsed it
		return twinex.Errorf(twinex.InvalidNonce, "Invalid nonce")
	}
	if c.key.TimeNonce {
		return twinex.Errorf(twinex.InvalidNonce, "Nonce '%s' is not within %d seconds of server time '%d''",
			n.Text(), int(auth.TimeWindow/time.Second), s.now().Unix())
	}
	return n.Increasing(n) // Gemini's "has not increased" error, by construction
}

// expireHeartbeat does now what RunHeartbeats does to a silent session:
// it cancels the orders of the key's session with reason HeartbeatExpired.
// Only a key that requires a heartbeat has one to expire (Gemini never
// cancels another key's orders so), so for others it does nothing. A
// failure is logged; the request goes on and meets it itself.
func (s *Server) expireHeartbeat(ctx context.Context, k twinex.APIKey) {
	if !k.RequireHeartbeat {
		return
	}
	res, err := s.do(ctx, core.Command{Kind: core.CancelSession, AccountID: k.AccountID, Session: k.ID, Reason: twinex.ReasonHeartbeatExpired})
	if err != nil {
		s.Logger.Error("fault: expiring a heartbeat", "key", k.ID, "err", err)
		return
	}
	s.Logger.Info("fault: heartbeat expired: session's orders cancelled", "key", k.ID, "orders", len(res.Cancelled))
}

// delay sleeps for d; if the client goes away first, the handler is
// aborted quietly (http.ErrAbortHandler), since no one is left to answer.
func delay(ctx context.Context, d time.Duration) {
	if d <= 0 {
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
		panic(http.ErrAbortHandler)
	}
}

// markFault logs an injected fault and reports it to the injector's
// OnInject hook, where an activity log can mark the request.
func (s *Server) markFault(r *http.Request, key string, e fault.Effect) {
	s.Logger.Info("fault injected", "rule", e.RuleID, "key", key, "method", r.Method, "path", r.URL.Path,
		"error", e.Error, "latency", e.Latency, "expire_heartbeat", e.ExpireHeartbeat)
	if hook := s.Faults.OnInject; hook != nil {
		hook(fault.Event{Time: s.now(), Key: key, Method: r.Method, Path: r.URL.Path, Effect: e})
	}
}

// publicFaults applies the Public fault rules to public requests (GET
// under /v1/ and /v2/, the requests the public rate limit counts): the
// latency, then RateLimit (with Retry-After: 1) or Maintenance instead of
// the handler.
//
// Handler installs it inside the recoverer, so that the abort of a request
// whose client left is handled as for any handler.
func (s *Server) publicFaults(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if s.Faults == nil || r.Method != http.MethodGet ||
			!(strings.HasPrefix(r.URL.Path, "/v1/") || strings.HasPrefix(r.URL.Path, "/v2/")) {
			h.ServeHTTP(w, r)
			return
		}
		e, ok := s.Faults.Match("", true)
		if !ok {
			h.ServeHTTP(w, r)
			return
		}
		s.markFault(r, "", e)
		delay(r.Context(), e.Latency)
		if err := s.faultError(w, e, nil); err != nil {
			s.writeError(w, r, err)
			return
		}
		h.ServeHTTP(w, r)
	})
}
