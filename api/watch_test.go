package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/sqlite"
	"github.com/twinex/twinex/watch"
)

type captured struct {
	mu   sync.Mutex
	recs []twinex.Activity
}

func (c *captured) Record(a twinex.Activity) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.recs = append(c.recs, a)
}

func (c *captured) last() twinex.Activity {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.recs[len(c.recs)-1]
}

func TestDailyQuota(t *testing.T) {
	ts := privateServer(t)
	s := serverOf(t, ts)
	db := s.Accounts.(*sqlite.DB)
	rec := &captured{}
	s.Activity = rec
	s.Quota = &quota.Service{Store: db}
	now := time.Date(2026, 11, 26, 22, 0, 0, 0, time.UTC)
	s.Now = func() time.Time { return now }
	k := newKey(t, ts, "quota@example.com", `{"roles":"trader","time_nonce":true}`)
	// The key has used all but one request of the free plan's allowance
	// today (as its usage rollup says, read at startup).
	u, _ := db.UserByEmail(context.Background(), "quota@example.com")
	seed := make([]twinex.Activity, twinex.FreePlan.DailyRequests-1)
	for i := range seed {
		seed[i] = twinex.Activity{Time: now.Add(-time.Hour).UnixNano(), KeyID: k.Key, UserID: u.ID, Authenticated: true, Counted: true}
	}
	if err := db.AddActivity(context.Background(), seed); err != nil {
		t.Fatal(err)
	}
	if err := s.Quota.Load(context.Background(), now); err != nil {
		t.Fatal(err)
	}
	payload := func() string {
		return `{"request":"/v1/balances","nonce":` + strconv.FormatInt(now.Unix(), 10) + `}`
	}
	// A bad signature is refused for what it is, and not counted: the one
	// request left is still there after it.
	if status, v := rawSigned(t, ts, "/v1/balances", testKey{Key: k.Key, Secret: "wrong"}, payload(), nil); v["reason"] != twinex.InvalidSignature {
		t.Fatalf("bad signature: %d %v", status, v)
	}
	if a := rec.last(); a.Authenticated || a.Counted {
		t.Fatalf("record of a bad signature %+v", a)
	}
	if status, v := rawSigned(t, ts, "/v1/balances", k, payload(), nil); status != 200 {
		t.Fatalf("the last request of the day: %d %v", status, v)
	}
	if a := rec.last(); !a.Authenticated || !a.Counted {
		t.Fatalf("record of a counted request %+v", a)
	}
	b64Payload := payload()
	req, _ := http.NewRequest("POST", ts.URL+"/v1/balances", nil)
	signHeaders(req, k, b64Payload)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 429 || resp.Header.Get("Retry-After") != "7200" {
		t.Fatalf("over the quota: %d, Retry-After %q", resp.StatusCode, resp.Header.Get("Retry-After"))
	}
	status, v := rawSigned(t, ts, "/v1/balances", k, payload(), nil)
	if status != 429 || v["reason"] != twinex.RateLimit || !strings.Contains(v["message"].(string), "resets at 2026-11-27T00:00:00Z") ||
		!strings.Contains(v["message"].(string), "100000") {
		t.Fatalf("over the quota: %d %v", status, v)
	}
	if a := rec.last(); !a.Authenticated || a.Counted || a.Reason != twinex.RateLimit {
		t.Fatalf("record of a refused request %+v", a)
	}
	// Cancelling and the heartbeat still work, and are not counted.
	for _, path := range []string{"/v1/order/cancel/all", "/v1/heartbeat"} {
		if status, v := rawSigned(t, ts, path, k, `{"request":"`+path+`","nonce":`+strconv.FormatInt(now.Unix(), 10)+`}`, nil); status != 200 {
			t.Fatalf("%s over the quota: %d %v", path, status, v)
		}
		if a := rec.last(); !a.Authenticated || a.Counted {
			t.Fatalf("record of %s %+v", path, a)
		}
	}
	// After midnight UTC the key works again.
	now = now.Add(2 * time.Hour)
	if status, v := rawSigned(t, ts, "/v1/balances", k, payload(), nil); status != 200 {
		t.Fatalf("after midnight: %d %v", status, v)
	}
	// A larger plan applies at once.
	if status, v := call(t, ts, "POST", "/admin/v1/plan", `{"email":"quota@example.com","plan":"gold"}`); status != 400 || v["reason"] != twinex.InvalidJson {
		t.Fatalf("unknown plan: %d %v", status, v)
	}
	if status, v := call(t, ts, "POST", "/admin/v1/plan", `{"email":"quota@example.com","plan":"pro"}`); status != 200 || v["plan"] != "pro" || v["daily_requests_per_key"] != float64(1_000_000) {
		t.Fatalf("set plan: %d %v", status, v)
	}
	if status, v := call(t, ts, "GET", "/admin/v1/plan?email=quota@example.com", ""); status != 200 || v["plan"] != "pro" {
		t.Fatalf("get plan: %d %v", status, v)
	}
	if status, v := call(t, ts, "GET", "/admin/v1/plan?email=nobody@example.com", ""); status != 400 || v["reason"] != twinex.InvalidAccountName {
		t.Fatalf("unknown user: %d %v", status, v)
	}
}

func signHeaders(req *http.Request, k testKey, payload string) {
	b64 := base64.StdEncoding.EncodeToString([]byte(payload))
	req.Header.Set("X-GEMINI-APIKEY", k.Key)
	req.Header.Set("X-GEMINI-PAYLOAD", b64)
	req.Header.Set("X-GEMINI-SIGNATURE", auth.Sign(k.Secret, b64))
}

func TestSecretReport(t *testing.T) {
	ts := privateServer(t)
	s := serverOf(t, ts)
	db := s.Accounts.(*sqlite.DB)
	s.Keys.Fingerprints = db
	w := &watch.Watcher{Store: db, Accounts: db, Keys: s.Keys}
	s.Leaks = w
	k := newKey(t, ts, "leak@example.com", `{"roles":"auditor"}`)
	if status, body := signedRaw(t, ts, "/v1/balances", k, ""); status != 200 {
		t.Fatalf("before the report: %d %s", status, body)
	}
	report := func(body string) (int, map[string]any) {
		t.Helper()
		resp, err := http.Post(ts.URL+"/secrets/v1/report", "application/json", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		json.NewDecoder(resp.Body).Decode(&v)
		return resp.StatusCode, v
	}
	for _, bad := range []string{``, `{`, `{"secrets":"x"}`, `{"secrets":[]}`, `[1,2]`, `{"secrets":[` + strings.Repeat(`"a",`, 100) + `"a"]}`,
		`{"secrets":["a"],"url":"` + strings.Repeat("x", 3000) + `"}`, `{"secrets":["` + strings.Repeat("x", 2<<20) + `"]}`,
		`[{"token":null},{}]`, `{"secrets":[" "]}`, `{"secrets":["a"]} {"secrets":["b"]}`, `{"secrets":["a"]} junk`,
		`{"secrets":["a"],"url":"javascript:alert(1)"}`, `{"secrets":["a"],"url":"https://x.example/a\nClick here"}`,
		`{"secrets":["a"],"source":"scanner\nYour account is closed"}`, `[{"token":"a","url":"ftp://x.example/"}]`} {
		if status, v := report(bad); status != 400 || v["reason"] != twinex.InvalidJson {
			t.Fatalf("report %.40q: %d %v", bad, status, v)
		}
	}
	// A near miss (wrong checksum) and an unknown valid-looking secret
	// change nothing, and the answer does not say which was live.
	near := k.Secret[:len(k.Secret)-1] + string("A1"[boolIndex(k.Secret[len(k.Secret)-1] == 'A')])
	unknown, _ := auth.NewSecret()
	status, v := report(`{"secrets":["` + near + `","` + unknown + `","not a secret","not a secret"],"url":"https://paste.example/1"}`)
	if status != 200 || v["result"] != "ok" || v["received"] != float64(3) {
		t.Fatalf("report of near misses: %d %v", status, v)
	}
	if status, _ := signedRaw(t, ts, "/v1/balances", k, ""); status != 200 {
		t.Fatal("a near miss revoked the key")
	}
	// GitHub's format, with the real secret.
	status, v2 := report(`[{"token":"` + unknown + `","url":"https://elsewhere.example/"},{"token":"` + k.Secret + `","type":"twinex_api_secret","url":"https://github.com/o/r/blob/main/.env","source":"content"}]`)
	if status != 200 || v2["message"] != v["message"] {
		t.Fatalf("report: %d %v", status, v2)
	}
	if status, body := signedRaw(t, ts, "/v1/balances", k, ""); status != 400 || !strings.Contains(string(body), twinex.InvalidSignature) {
		t.Fatalf("after the report: %d %s", status, body)
	}
	u, _ := db.UserByEmail(context.Background(), "leak@example.com")
	alerts, _ := db.Alerts(context.Background(), u.ID, true, 10)
	if len(alerts) != 1 || alerts[0].Kind != twinex.AlertLeaked || !strings.Contains(alerts[0].Message, "github.com/o/r") {
		t.Fatalf("alerts %+v", alerts)
	}
}

func boolIndex(b bool) int {
	if b {
		return 1
	}
	return 0
}

type failingLeaks struct{ calls int }

func (f *failingLeaks) ReportSecret(context.Context, string, string, string, string) error {
	f.calls++
	return errors.New("store down")
}

// TestSecretReportFailureLooksTheSame: a report whose handling fails
// answers exactly as one about dead strings (the failure is logged), and
// every secret is still tried.
func TestSecretReportFailureLooksTheSame(t *testing.T) {
	ts := privateServer(t)
	s := serverOf(t, ts)
	f := &failingLeaks{}
	s.Leaks = f
	a, _ := auth.NewSecret()
	b, _ := auth.NewSecret()
	resp, err := http.Post(ts.URL+"/secrets/v1/report", "application/json", strings.NewReader(`{"secrets":["`+a+`","`+b+`"]}`))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var v map[string]any
	json.NewDecoder(resp.Body).Decode(&v)
	if resp.StatusCode != 200 || v["result"] != "ok" || f.calls != 2 {
		t.Fatalf("%d %v after %d calls", resp.StatusCode, v, f.calls)
	}
}
