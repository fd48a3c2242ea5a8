package api

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/sqlite"
)

const testToken = "test-admin-token"

func newTestServer(t *testing.T) *httptest.Server {
	t.Helper()
	db, err := sqlite.Open(t.TempDir() + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.Open(context.Background(), core.Config{Store: db, Markets: twinex.DefaultMarkets()})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Core: c, Store: db, Accounts: db, Identities: db, AdminToken: testToken}
	ts := httptest.NewServer(s.Handler())
	servers.Store(ts, s)
	t.Cleanup(func() {
		servers.Delete(ts)
		ts.Close()
		checkLedger(t, c)
		c.Close()
		db.Close()
	})
	return ts
}

// newUsers creates n verified users, user1@example.com and on; the first
// server's users get account ids 100, 101, ...
func newUsers(t *testing.T, ts *httptest.Server, n int) {
	t.Helper()
	for i := 1; i <= n; i++ {
		status, v := call(t, ts, "POST", "/admin/v1/accounts", fmt.Sprintf(`{"email":"user%d@example.com","verified":true}`, i))
		if status != 200 {
			t.Fatalf("create user %d: %d %v", i, status, v)
		}
	}
}

// call sends a request with the admin token and returns the status and the
// decoded JSON body.
func call(t testing.TB, ts *httptest.Server, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, ts.URL+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+testToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", method, path, ct)
	}
	data, _ := io.ReadAll(resp.Body)
	var v map[string]any
	if len(data) > 0 && data[0] == '{' {
		if err := json.Unmarshal(data, &v); err != nil {
			t.Fatalf("%s %s: %s: %v", method, path, data, err)
		}
	}
	return resp.StatusCode, v
}

func wantError(t *testing.T, ts *httptest.Server, method, path, body, reason string, status int) {
	t.Helper()
	got, v := call(t, ts, method, path, body)
	if got != status || v["result"] != "error" || v["reason"] != reason || v["message"] == "" {
		t.Errorf("%s %s %s: %d %v, want %d %s", method, path, body, got, v, status, reason)
	}
}

func TestAdminRefusesBadInput(t *testing.T) {
	ts := newTestServer(t)
	newUsers(t, ts, 1)
	call(t, ts, "POST", "/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"100"}`)
	for _, c := range []struct {
		path, body, reason string
		status             int
	}{
		{"/admin/v1/fund", `{"account_id":100,`, twinex.InvalidJson, 400},
		{"/admin/v1/fund", `[1,2]`, twinex.InvalidJson, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":true}`, twinex.InvalidJson, 400},
		{"/admin/v1/fund", `{"account_id":"x","currency":"USD","amount":"1"}`, twinex.InvalidJson, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"1","extra":1}`, twinex.InvalidJson, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"1"} {}`, twinex.InvalidJson, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"1"}]`, twinex.InvalidJson, 400},
		{"/admin/v1/fund", ``, twinex.InvalidJson, 400},
		{"/admin/v1/fund", `{"account_id":100,"amount":"1"}`, twinex.MissingPayloadKey, 400},
		{"/admin/v1/fund", `{"currency":"USD","amount":"1"}`, twinex.MissingPayloadKey, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"-5"}`, twinex.InvalidQuantity, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"0"}`, twinex.InvalidQuantity, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"1e400"}`, twinex.InvalidQuantity, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"99999999999999999999"}`, twinex.InvalidQuantity, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"0.00000000001"}`, twinex.InvalidQuantity, 400},
		{"/admin/v1/fund", `{"account_id":100,"currency":"XYZ","amount":"1"}`, twinex.InvalidQuantity, 400},
		{"/admin/v1/fund", `{"account_id":1,"currency":"USD","amount":"1"}`, twinex.InvalidAccountName, 400},
		{"/admin/v1/fund", `{"account_id":101,"currency":"USD","amount":"1"}`, twinex.InvalidAccountName, 400},
		{"/admin/v1/fund", `{"email":"nobody@example.com","currency":"USD","amount":"1"}`, twinex.InvalidAccountName, 400},
		{"/admin/v1/fund", `{"email":"user1@example.com","account":"nope","currency":"USD","amount":"1"}`, twinex.InvalidAccountName, 400},
		{"/admin/v1/fund", `{"account_id":100,"email":"user1@example.com","currency":"USD","amount":"1"}`, twinex.InvalidAccountName, 400},
		{"/admin/v1/accounts", `{"email":"not an email"}`, twinex.InvalidEmail, 400},
		{"/admin/v1/accounts", `{"email":"user1@example.com"}`, AccountExists, 400},
		{"/admin/v1/accounts", `{"email":"x@localhost.\ufffd"}`, twinex.InvalidEmail, 400},
		{"/admin/v1/accounts", `{"email":"new@example.com","password":"short"}`, twinex.InvalidPassword, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"dogeusd","side":"buy","price":"1","amount":"1"}`, twinex.InvalidSymbol, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"up","price":"1","amount":"1"}`, twinex.InvalidSide, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","type":"market","price":"1","amount":"1"}`, twinex.InvalidOrderType, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","price":"1.001","amount":"1"}`, twinex.InvalidPrice, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","price":"-1","amount":"1"}`, twinex.InvalidPrice, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","price":"1","amount":"0.000000001"}`, twinex.InvalidQuantity, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","price":"1","amount":"0.000001"}`, twinex.InvalidQuantity, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","price":"92233720368547758.07","amount":"92233720368"}`, twinex.InvalidQuantity, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","price":"1","amount":"1","options":["maker-or-cancel","fill-or-kill"]}`, twinex.ConflictingOptions, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","price":"1","amount":"1","options":["all-or-none"]}`, twinex.UnsupportedOption, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","price":"1","amount":"1","options":"maker-or-cancel"}`, twinex.OptionsMustBeArray, 400},
		{"/admin/v1/orders", `{"account_id":100,"symbol":"btcusd","side":"buy","price":"1000","amount":"1"}`, twinex.InsufficientFunds, 406},
		{"/admin/v1/orders/cancel", `{"account_id":100,"order_id":424242}`, twinex.OrderNotFound, 404},
		{"/admin/v1/orders/cancel", `{"account_id":100}`, twinex.MissingOrderField, 400},
	} {
		wantError(t, ts, "POST", c.path, c.body, c.reason, c.status)
	}
	wantError(t, ts, "POST", "/admin/v1/fund", `{"amount":"`+strings.Repeat("1", MaxBodyBytes)+`"}`, twinex.InvalidJson, 400)
	// Decoding errors never show Go's type names.
	if _, v := call(t, ts, "POST", "/admin/v1/fund", `[1]`); strings.Contains(fmt.Sprint(v["message"]), "struct") {
		t.Errorf("message leaks internals: %v", v["message"])
	}
	wantError(t, ts, "GET", "/admin/v1/orders/abc", "", twinex.MissingOrderField, 400)
	wantError(t, ts, "GET", "/admin/v1/orders/99", "", twinex.OrderNotFound, 404)
	wantError(t, ts, "GET", "/admin/v1/balances?account_id=x", "", twinex.InvalidAccountName, 400)
	wantError(t, ts, "GET", "/no/such/path", "", twinex.EndpointNotFound, 404)
	wantError(t, ts, "DELETE", "/admin/v1/fund", "", twinex.EndpointNotFound, 404)

	// Nothing above changed the account: 100 USD, nothing held.
	_, v := call(t, ts, "GET", "/admin/v1/verify", "")
	if v["ok"] != true || v["open_orders"] != float64(0) {
		t.Fatalf("verify after bad input: %v", v)
	}
}

func TestAdminNeedsTheToken(t *testing.T) {
	ts := newTestServer(t)
	for _, auth := range []string{"", "Bearer", "Bearer wrong", "Basic " + testToken, "bearer " + testToken} {
		req, _ := http.NewRequest("GET", ts.URL+"/admin/v1/verify", nil)
		if auth != "" {
			req.Header.Set("Authorization", auth)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusUnauthorized {
			t.Errorf("Authorization %q: %d", auth, resp.StatusCode)
		}
	}
}

func TestOrderObjectTypes(t *testing.T) {
	ts := newTestServer(t)
	newUsers(t, ts, 2)
	call(t, ts, "POST", "/admin/v1/fund", `{"email":"user1@example.com","currency":"USD","amount":"1000"}`)
	call(t, ts, "POST", "/admin/v1/fund", `{"email":"USER2@example.com","account":"primary","currency":"BTC","amount":1}`)
	call(t, ts, "POST", "/admin/v1/orders", `{"account_id":101,"symbol":"btcusd","side":"sell","price":"100.00","amount":"0.3"}`)
	call(t, ts, "POST", "/admin/v1/orders", `{"account_id":101,"symbol":"btcusd","side":"sell","price":"100.01","amount":"0.3"}`)
	status, o := call(t, ts, "POST", "/admin/v1/orders", `{"account_id":100,"symbol":"BTCUSD","side":"buy","price":100.01,"amount":0.4,"client_order_id":"c-1","options":["immediate-or-cancel"]}`)
	if status != 200 {
		t.Fatalf("order: %d %v", status, o)
	}
	// Gemini's order object: ids and decimals are strings, timestampms a
	// number, the flags booleans (reference §3.1).
	for k, want := range map[string]any{
		"order_id": "3", "id": "3", "symbol": "btcusd", "side": "buy", "type": "exchange limit",
		"price": "100.01", "original_amount": "0.4", "executed_amount": "0.4", "remaining_amount": "0",
		"avg_execution_price": "100.0025", "is_live": false, "is_cancelled": false, "client_order_id": "c-1",
	} {
		if o[k] != want {
			t.Errorf("%s = %#v, want %#v", k, o[k], want)
		}
	}
	if _, ok := o["timestampms"].(float64); !ok {
		t.Errorf("timestampms is %T", o["timestampms"])
	}
	if _, ok := o["timestamp"].(string); !ok {
		t.Errorf("timestamp is %T", o["timestamp"])
	}
	if opts, ok := o["options"].([]any); !ok || len(opts) != 1 || opts[0] != "immediate-or-cancel" {
		t.Errorf("options %v", o["options"])
	}
}

func TestPanicBecomesSystemError(t *testing.T) {
	s := &Server{}
	s.Handler()
	h := s.recoverer(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { panic("boom") }))
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/x", nil))
	var v map[string]any
	json.Unmarshal(rec.Body.Bytes(), &v)
	if rec.Code != 500 || v["reason"] != twinex.System || strings.Contains(rec.Body.String(), "boom") {
		t.Fatalf("%d %s", rec.Code, rec.Body.String())
	}
}

func TestAdminIdentityReview(t *testing.T) {
	ts := newTestServer(t)
	call(t, ts, "POST", "/admin/v1/accounts", `{"email":"kyc@example.com"}`)
	wantError(t, ts, "POST", "/admin/v1/kyc", `{"email":"kyc@example.com","decision":"reject"}`, twinex.MissingPayloadKey, 400)
	wantError(t, ts, "POST", "/admin/v1/kyc", `{"email":"kyc@example.com","decision":"maybe"}`, twinex.InvalidJson, 400)
	wantError(t, ts, "POST", "/admin/v1/kyc", `{"email":"nobody@example.com","decision":"approve"}`, twinex.InvalidAccountName, 400)
	st, v := call(t, ts, "POST", "/admin/v1/kyc", `{"email":"kyc@example.com","decision":"reject","reason":"blurry document"}`)
	if st != 200 || v["identity"] != "rejected" {
		t.Fatalf("reject: %d %v", st, v)
	}
	if st, v := call(t, ts, "POST", "/admin/v1/keys", `{"email":"kyc@example.com","roles":"trader"}`); st != 400 || v["reason"] != IdentityNotVerified {
		t.Fatalf("key for a rejected user: %d %v", st, v)
	}
	st, v = call(t, ts, "POST", "/admin/v1/kyc", `{"email":"kyc@example.com","decision":"approve"}`)
	if st != 200 || v["identity"] != "verified" {
		t.Fatalf("approve: %d %v", st, v)
	}
	if st, _ := call(t, ts, "GET", "/admin/v1/kyc/pending", ""); st != 200 {
		t.Fatalf("pending: %d", st)
	}
	// A decision naming the submission it was made on refuses a newer one.
	db := serverOf(t, ts).Identities.(*sqlite.DB)
	u, _ := db.UserByEmail(t.Context(), "kyc@example.com")
	for _, at := range []int64{100, 200} {
		if err := db.SubmitIdentity(t.Context(), twinex.IdentitySubmission{UserID: u.ID, LegalName: "K", BirthDate: "1990-01-01", Country: "GB", Address: "1 Road", Submitted: at}); err != nil {
			t.Fatal(err)
		}
	}
	wantError(t, ts, "POST", "/admin/v1/kyc", `{"email":"kyc@example.com","decision":"approve","submitted_ns":100}`, SubmissionChanged, 400)
	st, v = call(t, ts, "POST", "/admin/v1/kyc", `{"email":"kyc@example.com","decision":"approve","submitted_ns":200}`)
	if st != 200 || v["identity"] != "verified" {
		t.Fatalf("approve the submission seen: %d %v", st, v)
	}
}
