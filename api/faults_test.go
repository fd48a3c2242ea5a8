package api

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/fault"
	"github.com/twinex/twinex/gemini"
)

// faultServer is a privateServer with fault injection on.
func faultServer(t *testing.T) (*httptest.Server, *Server) {
	t.Helper()
	ts := privateServer(t)
	srv := serverOf(t, ts)
	srv.Faults = fault.New(1)
	return ts, srv
}

// addFault adds a rule through the admin API and returns its id.
func addFault(t *testing.T, ts *httptest.Server, body string) string {
	t.Helper()
	st, v := call(t, ts, "POST", "/admin/v1/faults", body)
	if st != 200 {
		t.Fatalf("add fault %s: %d %v", body, st, v)
	}
	return v["id"].(string)
}

// faultReply is a signed request's answer.
type faultReply struct {
	status     int
	reason     string
	message    string
	retryAfter string
}

// signedCall sends a signed POST to /v1/balances with the next nonce.
func signedCall(t *testing.T, ts *httptest.Server, k testKey, nonce *int64) faultReply {
	t.Helper()
	*nonce++
	b64 := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"request":"/v1/balances","nonce":%d}`, *nonce))
	req, _ := http.NewRequest("POST", ts.URL+"/v1/balances", nil)
	req.Header.Set("X-GEMINI-APIKEY", k.Key)
	req.Header.Set("X-GEMINI-PAYLOAD", b64)
	req.Header.Set("X-GEMINI-SIGNATURE", auth.Sign(k.Secret, b64))
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var e errorBody
	data, _ := io.ReadAll(resp.Body)
	if resp.StatusCode != 200 {
		if err := json.Unmarshal(data, &e); err != nil {
			t.Fatalf("error body %s: %v", data, err)
		}
	}
	return faultReply{resp.StatusCode, e.Reason, e.Message, resp.Header.Get("Retry-After")}
}

func TestFaultGlobalMaintenanceForTwoRequests(t *testing.T) {
	ts, srv := faultServer(t)
	alice := newKey(t, ts, "alice@example.com", `{"roles":"trader"}`)
	bob := newKey(t, ts, "bob@example.com", `{"roles":"trader"}`)
	var events []fault.Event
	var mu sync.Mutex
	srv.Faults.OnInject = func(e fault.Event) { mu.Lock(); events = append(events, e); mu.Unlock() }
	id := addFault(t, ts, `{"error":"Maintenance","count":2}`)
	nonce := time.Now().UnixMilli()
	for i, k := range []testKey{alice, bob} {
		got := signedCall(t, ts, k, &nonce)
		if got.status != 503 || got.reason != twinex.Maintenance || got.message != maintenanceMessage {
			t.Fatalf("request %d: %+v", i+1, got)
		}
	}
	for i, k := range []testKey{alice, bob} {
		if got := signedCall(t, ts, k, &nonce); got.status != 200 {
			t.Fatalf("request %d after the rule ran out: %+v", i+3, got)
		}
	}
	if list := listFaults(t, ts); len(list) != 0 {
		t.Fatalf("the exhausted rule is still listed: %+v", list)
	}
	mu.Lock()
	defer mu.Unlock()
	if len(events) != 2 || events[0].RuleID != id || events[0].Key != alice.Key || events[1].Key != bob.Key ||
		events[0].Path != "/v1/balances" || events[0].Error != twinex.Maintenance {
		t.Fatalf("marked events %+v", events)
	}
}

func TestFaultRateLimitForOneKey(t *testing.T) {
	ts, _ := faultServer(t)
	alice := newKey(t, ts, "alice@example.com", `{"roles":"trader"}`)
	bob := newKey(t, ts, "bob@example.com", `{"roles":"trader"}`)
	addFault(t, ts, `{"key":"`+alice.Key+`","error":"RateLimit"}`)
	nonce := time.Now().UnixMilli()
	for range 3 {
		if got := signedCall(t, ts, alice, &nonce); got.status != 429 || got.reason != twinex.RateLimit || got.retryAfter != "1" {
			t.Fatalf("alice: %+v", got)
		}
		if got := signedCall(t, ts, bob, &nonce); got.status != 200 {
			t.Fatalf("bob: %+v", got)
		}
	}
}

func TestFaultInvalidNonce(t *testing.T) {
	ts, _ := faultServer(t)
	k := newKey(t, ts, "n@example.com", `{"roles":"trader"}`)
	timed := newKey(t, ts, "n@example.com", `{"roles":"trader","time_nonce":true}`)
	addFault(t, ts, `{"key":"`+k.Key+`","error":"InvalidNonce","count":1}`)
	addFault(t, ts, `{"key":"`+timed.Key+`","error":"InvalidNonce","count":1}`)
	nonce := time.Now().UnixMilli()
	got := signedCall(t, ts, k, &nonce)
	if want := fmt.Sprintf("Nonce '%d' has not increased since your last call to the Gemini API.", nonce); got.status != 400 || got.reason != twinex.InvalidNonce || got.message != want {
		t.Fatalf("faulted request: %+v, want message %q", got, want)
	}
	// The client retries with a new nonce, as after a real InvalidNonce.
	if got := signedCall(t, ts, k, &nonce); got.status != 200 {
		t.Fatalf("retry: %+v", got)
	}
	sec := time.Now().Unix() - 1
	if got := signedCall(t, ts, timed, &sec); got.status != 400 || got.reason != twinex.InvalidNonce || !strings.Contains(got.message, "is not within 30 seconds of server time") {
		t.Fatalf("time-based key: %+v", got)
	}
}

func TestFaultLatency(t *testing.T) {
	ts, _ := faultServer(t)
	k := newKey(t, ts, "l@example.com", `{"roles":"trader"}`)
	addFault(t, ts, `{"latency":"20ms","count":1}`)
	nonce := time.Now().UnixMilli()
	if got := signedCall(t, ts, k, &nonce); got.status != 200 {
		t.Fatalf("delayed request: %+v", got)
	}
	// A client that gives up during the delay leaves the server serving.
	addFault(t, ts, `{"latency":"1m","count":1}`)
	nonce++
	b64 := base64.StdEncoding.EncodeToString(fmt.Appendf(nil, `{"request":"/v1/balances","nonce":%d}`, nonce))
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "POST", ts.URL+"/v1/balances", nil)
	req.Header.Set("X-GEMINI-APIKEY", k.Key)
	req.Header.Set("X-GEMINI-PAYLOAD", b64)
	req.Header.Set("X-GEMINI-SIGNATURE", auth.Sign(k.Secret, b64))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatalf("a 1m delay answered within 50ms: %d", resp.StatusCode)
	}
	if got := signedCall(t, ts, k, &nonce); got.status != 200 {
		t.Fatalf("after an abandoned request: %+v", got)
	}
}

func TestFaultExpireHeartbeat(t *testing.T) {
	ts, _ := faultServer(t)
	hbKey := newKey(t, ts, "hb@example.com", `{"roles":"trader","heartbeat":true}`, "USD", "1000")
	plainKey := newKey(t, ts, "hb@example.com", `{"roles":"trader"}`)
	hb, plain := client(ts, hbKey), client(ts, plainKey)
	ctx := context.Background()
	o, err := hb.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: "100", Side: "buy"})
	if err != nil {
		t.Fatal(err)
	}
	keep, err := plain.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: "100", Side: "buy"})
	if err != nil {
		t.Fatal(err)
	}
	// A key without a heartbeat has none to expire.
	addFault(t, ts, `{"key":"`+plainKey.Key+`","expire_heartbeat":true,"count":1}`)
	if err := plain.Heartbeat(ctx); err != nil {
		t.Fatal(err)
	}
	addFault(t, ts, `{"key":"`+hbKey.Key+`","expire_heartbeat":true,"count":1}`)
	// The request itself goes through; the session's orders are gone.
	if err := hb.Heartbeat(ctx); err != nil {
		t.Fatalf("heartbeat with an expire_heartbeat fault: %v", err)
	}
	st, err := plain.OrderStatus(ctx, gemini.OrderStatusRequest{OrderID: o.OrderID})
	if err != nil || !st.IsCancelled || st.Reason != twinex.ReasonHeartbeatExpired {
		t.Fatalf("the heartbeat session's order %+v %v", st, err)
	}
	if st, err := plain.OrderStatus(ctx, gemini.OrderStatusRequest{OrderID: keep.OrderID}); err != nil || !st.IsLive {
		t.Fatalf("the other session's order %+v %v", st, err)
	}
	// The key keeps trading afterwards.
	if _, err := hb.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.01", Price: "100", Side: "buy"}); err != nil {
		t.Fatal(err)
	}
}

// listFaults lists the rules through the admin API.
func listFaults(t *testing.T, ts *httptest.Server) []fault.Spec {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+"/admin/v1/faults", nil)
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var list []fault.Spec
	if resp.StatusCode != 200 || json.Unmarshal(data, &list) != nil || list == nil {
		t.Fatalf("list faults: %d %s", resp.StatusCode, data)
	}
	return list
}

func TestFaultAdminEndpoints(t *testing.T) {
	ts, _ := faultServer(t)
	k := newKey(t, ts, "a@example.com", `{"roles":"trader"}`)
	st, v := call(t, ts, "POST", "/admin/v1/faults", `{"key":"`+k.Key+`","error":"RateLimit","count":3,"probability":0.5,"latency":"250ms"}`)
	if st != 200 || v["id"] != "f1" || v["key"] != k.Key || v["error"] != "RateLimit" || v["count"] != 3.0 ||
		v["probability"] != 0.5 || v["latency"] != "250ms" || v["expire_heartbeat"] != false || v["public"] != false {
		t.Fatalf("add: %d %v", st, v)
	}
	addFault(t, ts, `{"id":"maint","error":"Maintenance","public":true}`)
	addFault(t, ts, `{"expire_heartbeat":true}`)
	list := listFaults(t, ts)
	if len(list) != 3 || list[0].ID != "f1" || list[1].ID != "maint" || list[2].ID != "f2" || list[2].Latency != "0s" {
		t.Fatalf("list: %+v", list)
	}
	st, v = call(t, ts, "DELETE", "/admin/v1/faults/maint", "")
	if st != 200 || v["id"] != "maint" || v["error"] != "Maintenance" {
		t.Fatalf("remove: %d %v", st, v)
	}
	wantError(t, ts, "DELETE", "/admin/v1/faults/maint", "", twinex.EndpointNotFound, 404)
	if list := listFaults(t, ts); len(list) != 2 {
		t.Fatalf("after remove: %+v", list)
	}
	if st, v := call(t, ts, "DELETE", "/admin/v1/faults", ""); st != 200 || v["result"] != "ok" {
		t.Fatalf("clear: %d %v", st, v)
	}
	if list := listFaults(t, ts); len(list) != 0 {
		t.Fatalf("after clear: %+v", list)
	}

	for _, body := range []string{
		`{"error":"Teapot"}`,
		`{"error":"RateLimit","probability":2}`,
		`{"error":"RateLimit","probability":-1}`,
		`{"error":"RateLimit","count":-1}`,
		`{"latency":"soon"}`,
		`{"latency":"2h"}`,
		`{}`,
		`{"error":"RateLimit","colour":"red"}`,
		`{"error":"RateLimit","key":"nonsense"}`,
		`{"error":"RateLimit","public":true,"key":"` + k.Key + `"}`,
		`{"error":"InvalidNonce","public":true}`,
		`{"error":"RateLimit","id":"a/b"}`,
		`{"error":"RateLimit","id":"f1"} {}`,
	} {
		wantError(t, ts, "POST", "/admin/v1/faults", body, twinex.InvalidJson, 400)
	}
	addFault(t, ts, `{"id":"dup","error":"RateLimit"}`)
	wantError(t, ts, "POST", "/admin/v1/faults", `{"id":"dup","error":"Maintenance"}`, twinex.InvalidJson, 400)

	// The admin token is required.
	req, _ := http.NewRequest("DELETE", ts.URL+"/admin/v1/faults", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 401 || len(listFaults(t, ts)) != 1 {
		t.Fatalf("clear without the token: %d", resp.StatusCode)
	}
}

func TestFaultsDisabledWithoutAnInjector(t *testing.T) {
	ts := privateServer(t) // Faults is nil, as in production
	k := newKey(t, ts, "p@example.com", `{"roles":"trader"}`)
	for _, c := range []struct{ method, path, body string }{
		{"POST", "/admin/v1/faults", `{"error":"Maintenance"}`},
		{"GET", "/admin/v1/faults", ""},
		{"DELETE", "/admin/v1/faults", ""},
		{"DELETE", "/admin/v1/faults/f1", ""},
	} {
		wantError(t, ts, c.method, c.path, c.body, twinex.EndpointNotFound, 404)
	}
	nonce := time.Now().UnixMilli()
	if got := signedCall(t, ts, k, &nonce); got.status != 200 {
		t.Fatalf("signed request: %+v", got)
	}
}

// TestPublicFaults drives the public middleware directly: Handler does not
// use it yet (see publicFaults).
func TestPublicFaults(t *testing.T) {
	srv := &Server{Faults: fault.New(1), Logger: slog.New(slog.DiscardHandler)}
	h := srv.publicFaults(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, 200, map[string]string{"ok": "yes"})
	}))
	serve := func(method, path string) *httptest.ResponseRecorder {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(method, path, nil))
		return w
	}
	mustAdd := func(r fault.Rule) {
		if _, err := srv.Faults.Add(r); err != nil {
			t.Fatal(err)
		}
	}
	mustAdd(fault.Rule{Key: "account-AAAAAAAAAAAAAAAAAAAA", Error: twinex.Maintenance}) // signed requests only
	mustAdd(fault.Rule{Error: twinex.RateLimit})                                        // not public
	if w := serve("GET", "/v1/symbols"); w.Code != 200 {
		t.Fatalf("no public rule: %d", w.Code)
	}
	srv.Faults.Clear()
	mustAdd(fault.Rule{Error: twinex.Maintenance, Public: true, Count: 1})
	mustAdd(fault.Rule{Error: twinex.RateLimit, Public: true, Count: 1, Latency: time.Millisecond})
	if w := serve("POST", "/v1/order/new"); w.Code != 200 {
		t.Fatalf("a POST is not public: %d", w.Code)
	}
	if w := serve("GET", "/healthz"); w.Code != 200 {
		t.Fatalf("healthz is not public: %d", w.Code)
	}
	w := serve("GET", "/v1/pubticker/btcusd")
	if w.Code != 503 || !strings.Contains(w.Body.String(), `"reason":"Maintenance"`) {
		t.Fatalf("first public request: %d %s", w.Code, w.Body)
	}
	w = serve("GET", "/v2/ticker/btcusd")
	if w.Code != 429 || w.Header().Get("Retry-After") != "1" || !strings.Contains(w.Body.String(), `"reason":"RateLimit"`) {
		t.Fatalf("second public request: %d %s", w.Code, w.Body)
	}
	if w := serve("GET", "/v1/symbols"); w.Code != 200 {
		t.Fatalf("after the rules ran out: %d", w.Code)
	}
	srv.Faults = nil
	if w := serve("GET", "/v1/symbols"); w.Code != 200 {
		t.Fatalf("disabled: %d", w.Code)
	}
}

// TestMaintenanceWindowOverHTTP: a public Maintenance rule bounded by from
// and until answers every API request with 503 Maintenance inside its
// window only.
func TestMaintenanceWindowOverHTTP(t *testing.T) {
	ts, srv := faultServer(t)
	now := time.Date(2026, 12, 2, 5, 0, 0, 0, time.UTC)
	srv.Faults.Now = func() time.Time { return now }
	k := newKey(t, ts, "mw@example.com", `{"roles":"trader"}`)
	addFault(t, ts, `{"id":"maintenance","error":"Maintenance","public":true,"from":"2026-12-02T06:00:00Z","until":"2026-12-02T06:30:00Z"}`)
	nonce := time.Now().UnixMilli()
	for _, tt := range []struct {
		at   string
		want int
	}{{"05:59:59", 200}, {"06:00:00", 503}, {"06:29:59", 503}, {"06:30:00", 200}} {
		now, _ = time.Parse(time.RFC3339, "2026-12-02T"+tt.at+"Z")
		st, _, _ := get(t, ts, "/v1/pubticker/btcusd")
		r := signedCall(t, ts, k, &nonce)
		if st != tt.want || r.status != tt.want || (tt.want == 503 && r.reason != twinex.Maintenance) {
			t.Errorf("at %s: public %d, signed %+v; want %d", tt.at, st, r, tt.want)
		}
	}
}
