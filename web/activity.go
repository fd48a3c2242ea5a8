package web

import (
	"encoding/csv"
	"encoding/json"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/twinex/twinex"
)

// activityPage is how many records a page of the API activity log shows.
const activityPage = 100

// maxExport bounds an export.
const maxExport = 100000

// activityRecord is a record as exported (JSON and CSV) and shown.
type activityRecord struct {
	Time      string `json:"time"` // RFC 3339 with nanoseconds, UTC
	TimeNS    int64  `json:"timestampns"`
	id        int64
	Key       string `json:"key"`
	Account   string `json:"account"`
	IP        string `json:"ip"`
	Method    string `json:"method"`
	Path      string `json:"path"`
	Outcome   string `json:"outcome"` // "ok" or the Gemini reason
	Status    int    `json:"status"`
	LatencyUS int64  `json:"latency_us"`
}

type apiActivityView struct {
	Records []activityRecord
	Keys    []twinex.APIKey
	Filter  map[string]string
	Next    template.URL // the next page, "" on the last
	CSV     template.URL // the export links of the current filter
	JSON    template.URL
}

// sinceChoices are the offered time windows.
var sinceChoices = map[string]time.Duration{"1h": time.Hour, "24h": 24 * time.Hour, "7d": 7 * 24 * time.Hour, "30d": 30 * 24 * time.Hour}

// apiActivity shows (or exports, with format=csv or json) the user's API
// activity log, filtered by key, account, address, outcome and time.
func (s *Server) apiActivity(w http.ResponseWriter, r *http.Request) {
	st := state(r)
	u := st.user
	q := r.URL.Query()
	f := twinex.ActivityFilter{UserID: u.ID, KeyID: q.Get("key"), IP: q.Get("ip"), Outcome: q.Get("outcome"), Limit: activityPage + 1}
	// A window ("since") is fixed to an absolute time (since_ns) by the
	// next-page link, so that paging does not move it.
	if n, err := strconv.ParseInt(q.Get("since_ns"), 10, 64); err == nil && n > 0 {
		f.Since = n
	} else if d, ok := sinceChoices[q.Get("since")]; ok {
		f.Since = st.now.Add(-d).UnixNano()
	}
	if a, err := strconv.ParseInt(q.Get("account"), 10, 64); err == nil {
		f.AccountID = a
	}
	if b, err := strconv.ParseInt(q.Get("before"), 10, 64); err == nil && b > 0 {
		f.Before = b
		f.BeforeID, _ = strconv.ParseInt(q.Get("before_id"), 10, 64)
	}
	format := q.Get("format")
	if format == "csv" || format == "json" {
		f.Limit = maxExport
	}
	records, err := s.ActivityLog.Activity(r.Context(), f)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	accts, err := s.Accounts.Accounts(r.Context(), u.ID)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	nick := map[int64]string{}
	for _, a := range accts {
		nick[a.ID] = a.Nickname
	}
	out := make([]activityRecord, 0, len(records))
	for _, a := range records {
		out = append(out, activityRecord{id: a.ID, Time: time.Unix(0, a.Time).UTC().Format(time.RFC3339Nano), TimeNS: a.Time, Key: a.KeyID,
			Account: nick[a.AccountID], IP: a.IP, Method: a.Method, Path: a.Path, Outcome: a.Outcome(), Status: a.Status, LatencyUS: a.Latency})
	}
	if exportActivity(w, format, out) {
		return
	}
	v := apiActivityView{Filter: map[string]string{"key": f.KeyID, "ip": f.IP, "outcome": f.Outcome, "since": q.Get("since")}}
	filter := q
	filter.Del("before")
	filter.Del("before_id")
	filter.Del("format")
	if f.Since != 0 {
		filter.Set("since_ns", strconv.FormatInt(f.Since, 10))
	}
	// The values were parsed from the URL and are re-encoded here, so the
	// links are well-formed (template.URL marks them safe as such).
	link := func(extra url.Values) template.URL {
		q := url.Values{}
		for k, vs := range filter {
			q[k] = vs
		}
		for k, vs := range extra {
			q[k] = vs
		}
		return template.URL("/settings/api/activity?" + q.Encode())
	}
	v.CSV, v.JSON = link(url.Values{"format": {"csv"}}), link(url.Values{"format": {"json"}})
	if len(out) > activityPage {
		out = out[:activityPage]
		last := out[len(out)-1]
		v.Next = link(url.Values{"before": {strconv.FormatInt(last.TimeNS, 10)}, "before_id": {strconv.FormatInt(last.id, 10)}})
	}
	v.Records = out
	if v.Keys, err = s.Accounts.Keys(r.Context(), u.ID); err != nil {
		s.fail(w, r, err)
		return
	}
	s.render(w, r, http.StatusOK, "apiactivity.html", view{Title: "API activity", Nav: "api", Data: v})
}

// exportActivity writes out as a JSON or CSV download when format asks for
// one, and reports whether it did.
func exportActivity(w http.ResponseWriter, format string, out []activityRecord) bool {
	switch format {
	case "json":
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Disposition", `attachment; filename="twinex-activity.json"`)
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		_ = enc.Encode(out)
		return true
	case "csv":
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.Header().Set("Content-Disposition", `attachment; filename="twinex-activity.csv"`)
		cw := csv.NewWriter(w)
		_ = cw.Write([]string{"time", "key", "account", "ip", "method", "path", "outcome", "status", "latency_us"})
		for _, x := range out {
			_ = cw.Write([]string{x.Time, x.Key, x.Account, x.IP, x.Method, csvSafe(x.Path), x.Outcome, strconv.Itoa(x.Status), strconv.FormatInt(x.LatencyUS, 10)})
		}
		cw.Flush()
		return true
	}
	return false
}

// csvSafe keeps a spreadsheet from reading a cell as a formula.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@') {
		return "'" + s
	}
	return s
}
