package api

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/keys"
)

// IdentityNotVerified is Twinex's own reason for creating a key for a user
// whose identity is not verified.
const IdentityNotVerified = "IdentityNotVerified"

func (s *Server) routeKeys() {
	s.mux.Handle("POST /admin/v1/keys", s.admin(s.adminCreateKey))
	s.mux.Handle("GET /admin/v1/keys", s.admin(s.adminListKeys))
	s.mux.Handle("POST /admin/v1/keys/revoke", s.admin(s.adminRevokeKey))
	s.mux.Handle("POST /admin/v1/keys/rotate", s.admin(s.adminRotateKey))
}

// keyJSON describes a key, never with its secret.
func keyJSON(k twinex.APIKey, nickname string) admin.Key {
	roles := k.Roles.Names()
	if roles == nil {
		roles = []string{}
	}
	allow := k.Allowlist
	if allow == nil {
		allow = []string{}
	}
	v := admin.Key{
		Key: k.ID, Roles: roles, Master: k.Master, IP: allow, Heartbeat: k.RequireHeartbeat,
		TimeNonce: k.TimeNonce, Label: k.Label, Created: time.Unix(0, k.Created).UTC().Format(time.RFC3339),
		Revoked: k.Revoked != 0,
	}
	if !k.Master {
		v.Account, v.AccountID = &nickname, k.AccountID
	}
	if k.Expires != 0 {
		v.Expires = time.Unix(0, k.Expires).UTC().Format(time.RFC3339)
	}
	return v
}

func (s *Server) adminCreateKey(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email     string   `json:"email"`
		Account   string   `json:"account"`
		Roles     string   `json:"roles"`
		Master    bool     `json:"master"`
		IP        []string `json:"ip"`
		Heartbeat bool     `json:"heartbeat"`
		TimeNonce bool     `json:"time_nonce"`
		Label     string   `json:"label"`
		Expires   string   `json:"expires"` // RFC 3339
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	u, err := s.adminUser(r, req.Email)
	if err != nil {
		return err
	}
	var acct twinex.Account
	if !req.Master {
		if acct, err = s.resolve(r.Context(), accountRef{Email: req.Email, Account: req.Account}); err != nil {
			return err
		}
	}
	roles, err := twinex.ParseRoles(req.Roles)
	if err != nil {
		return twinex.Errorf(twinex.InvalidJson, "%s", err.Error())
	}
	o := keys.CreateOptions{Master: req.Master, Roles: roles, Allowlist: req.IP, RequireHeartbeat: req.Heartbeat, TimeNonce: req.TimeNonce, Label: req.Label}
	if req.Expires != "" {
		if o.Expires, err = time.Parse(time.RFC3339, req.Expires); err != nil {
			return twinex.Errorf(twinex.InvalidJson, "expires must be an RFC 3339 time")
		}
	}
	k, secret, err := s.Keys.Create(r.Context(), u, acct, o)
	switch {
	case errors.Is(err, keys.ErrNotVerified):
		return twinex.Errorf(IdentityNotVerified, "%s", err.Error())
	case errors.Is(err, keys.ErrInvalid):
		return &twinex.Error{Reason: twinex.InvalidJson, Message: err.Error(), Err: err}
	case err != nil:
		return err // a store failure: 500 System
	}
	v := keyJSON(k, acct.Nickname)
	v.Secret = secret
	writeJSON(w, http.StatusOK, v)
	return nil
}

func (s *Server) adminListKeys(w http.ResponseWriter, r *http.Request) error {
	u, err := s.adminUser(r, r.URL.Query().Get("email"))
	if err != nil {
		return err
	}
	list, err := s.Accounts.Keys(r.Context(), u.ID)
	if err != nil {
		return err
	}
	accounts, err := s.Accounts.Accounts(r.Context(), u.ID)
	if err != nil {
		return err
	}
	nick := map[int64]string{}
	for _, a := range accounts {
		nick[a.ID] = a.Nickname
	}
	out := []admin.Key{}
	for _, k := range list {
		out = append(out, keyJSON(k, nick[k.AccountID]))
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (s *Server) keyChange(r *http.Request, id string, err error) error {
	if errors.Is(err, twinex.ErrNotFound) {
		return twinex.Errorf(twinex.InvalidSignature, "No such key %q", id)
	}
	if errors.Is(err, keys.ErrRevoked) {
		return twinex.Errorf(twinex.InvalidSignature, "Key %s is revoked", id)
	}
	return err
}

func (s *Server) adminRevokeKey(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Key string `json:"key"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	k, err := s.Keys.Revoke(r.Context(), req.Key)
	if err != nil {
		return s.keyChange(r, req.Key, err)
	}
	writeJSON(w, http.StatusOK, keyJSON(k, ""))
	return nil
}

func (s *Server) adminRotateKey(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Key   string `json:"key"`
		Grace string `json:"grace"` // a Go duration, e.g. "10m"
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	var grace time.Duration
	if req.Grace != "" {
		var err error
		if grace, err = time.ParseDuration(req.Grace); err != nil {
			return twinex.Errorf(twinex.InvalidJson, "grace must be a duration such as 10m")
		}
	}
	k, secret, err := s.Keys.Rotate(r.Context(), req.Key, grace)
	switch {
	case errors.Is(err, twinex.ErrNotFound), errors.Is(err, keys.ErrRevoked):
		return s.keyChange(r, req.Key, err)
	case errors.Is(err, keys.ErrInvalid):
		return &twinex.Error{Reason: twinex.InvalidJson, Message: err.Error(), Err: err}
	case err != nil:
		return err
	}
	v := keyJSON(k, "")
	v.Secret = secret
	writeJSON(w, http.StatusOK, v)
	return nil
}

// HeartbeatTimeout is how long a key that requires a heartbeat may go
// without an authenticated request before its session's orders are
// cancelled (reference §1.7).
const HeartbeatTimeout = 30 * time.Second

// RunHeartbeats cancels the orders of sessions whose keys require a
// heartbeat and went silent, until ctx ends.
func (s *Server) RunHeartbeats(ctx context.Context) {
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		for _, k := range s.Keys.Expired(s.now(), HeartbeatTimeout) {
			res, err := s.Core.Do(ctx, core.Command{Kind: core.CancelSession, AccountID: k.AccountID, Session: k.ID, Reason: twinex.ReasonHeartbeatExpired})
			if err != nil {
				s.Logger.Error("cancelling a silent session", "key", k.ID, "err", err)
				continue
			}
			if len(res.Cancelled) > 0 {
				s.Logger.Info("heartbeat missed: session's orders cancelled", "key", k.ID, "orders", len(res.Cancelled))
			}
		}
	}
}
