package api

import (
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
)

// routeActivity serves the activity log to operators and harnesses:
// GET /admin/v1/activity?email=E[&key=K][&since=DURATION][&limit=N], or
// ?unknown=true for the requests that named keys that do not exist.
func (s *Server) routeActivity() {
	s.mux.Handle("GET /admin/v1/activity", s.admin(s.adminActivity))
}

// admin.Activity is one record as the admin API prints it.
func (s *Server) adminActivity(w http.ResponseWriter, r *http.Request) error {
	if s.ActivityLog == nil {
		return errors.New("api: Server.ActivityLog is not set")
	}
	q := r.URL.Query()
	f := twinex.ActivityFilter{KeyID: q.Get("key"), IP: q.Get("ip"), Outcome: q.Get("outcome"), Limit: 1000}
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100000 {
			return twinex.Errorf(twinex.InvalidJson, "limit must be from 1 to 100000")
		}
		f.Limit = n
	}
	if v := q.Get("since"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return twinex.Errorf(twinex.InvalidJson, "since must be a positive duration such as 1h or 30m")
		}
		f.Since = s.now().Add(-d).UnixNano()
	}
	if q.Get("unknown") == "true" {
		f.UnknownKeys = true
	} else {
		email := strings.ToLower(strings.TrimSpace(q.Get("email")))
		if email == "" {
			return twinex.Errorf(twinex.InvalidJson, "email is required (or unknown=true)")
		}
		u, err := s.adminUser(r, email)
		if err != nil {
			return err
		}
		f.UserID = u.ID
	}
	recs, err := s.ActivityLog.Activity(r.Context(), f)
	if err != nil {
		return err
	}
	out := make([]admin.Activity, 0, len(recs))
	for _, a := range recs {
		out = append(out, admin.Activity{Time: time.Unix(0, a.Time).UTC().Format(time.RFC3339Nano), Key: a.KeyID, AccountID: a.AccountID,
			IP: a.IP, Method: a.Method, Path: a.Path, Outcome: a.Outcome(), Status: a.Status, LatencyUS: a.Latency})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
