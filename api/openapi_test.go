package api

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/openapi"
	"github.com/twinex/twinex/openapi/jsonschema"
)

// The OpenAPI document (openapi/openapi.json) against the server: its
// reason→status table, its endpoints, the roles and payload fields of the
// signed ones, the answers that have no golden file and its signing
// example. TestGoldenResponsesMatchOpenAPI (schema_test.go) checks the
// golden answers against it.

// TestOpenAPIReasonsHaveTheirStatus checks the document's reason→status
// table (the Reason schema's x-status and each shared error response's
// x-reasons) against HTTPStatus, the one table the server uses.
func TestOpenAPIReasonsHaveTheirStatus(t *testing.T) {
	d, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	reason := d.Components.Schemas["Reason"]
	if reason == nil || len(reason.XStatus) == 0 {
		t.Fatal("the document has no Reason schema with x-status")
	}
	for r, st := range reason.XStatus {
		if got := HTTPStatus(r); got != st {
			t.Errorf("reason %s: the document says %d, the server answers %d", r, st, got)
		}
	}
	for name, resp := range d.Components.Responses {
		for _, r := range resp.XReasons {
			if _, ok := reason.XStatus[r]; !ok && name != "AdminUnauthorized" {
				t.Errorf("response %s lists %s, which the Reason schema does not", name, r)
			}
		}
	}
	// Every reason the server's code can answer with is documented.
	for _, r := range reasonsInSource(t) {
		if _, ok := reason.XStatus[r]; !ok {
			t.Errorf("the reason %s is answered by the server but not in the document's Reason schema", r)
		}
	}
}

// reasonsInSource lists the Gemini reasons the repository's code can
// answer with: the reason constants (X = "Reason") of the twinex package's
// error.go and address.go and of this package, and reasons written as
// literals in Errorf anywhere.
func reasonsInSource(t *testing.T) []string {
	var out []string
	constant := regexp.MustCompile(`(?m)^\s*(?:const\s+)?[A-Z][A-Za-z]+\s+= "([A-Z][A-Za-z]+)"$`)
	literal := regexp.MustCompile(`Errorf\("([A-Z][A-Za-z]+)"`)
	// The root's error reasons (order.go's cancel reasons are not errors)
	// and this package's own.
	local, _ := filepath.Glob("*.go")
	for _, f := range append([]string{"../error.go", "../address.go"}, local...) {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range constant.FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1])
		}
	}
	files, _ := filepath.Glob("../*/*.go")
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range literal.FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1])
		}
	}
	if len(out) < 30 {
		t.Fatalf("only %d reasons found in the source", len(out))
	}
	return out
}

// TestOpenAPIDocumentsEveryRoute checks that the document and the server
// agree on the endpoints: every route the api package registers (found in
// its source) is documented, and every documented operation is served
// (answers something other than the mux's EndpointNotFound).
func TestOpenAPIDocumentsEveryRoute(t *testing.T) {
	d, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	for _, e := range d.Endpoints("") {
		documented[e.Method+" "+e.Path] = true
	}
	for _, r := range routesInSource(t) {
		if !documented[r] {
			t.Errorf("%s is registered but not in openapi/openapi.json", r)
		}
	}
	ts, _ := faultServer(t) // the fault routes answer "not found" without faults
	params := strings.NewReplacer("{symbol}", "btcusd", "{time_frame}", "1hr", "{token}", "btc", "{currency}", "btc",
		"{network}", "bitcoin", "{ticker}", "btc", "{id}", "1")
	for _, e := range d.Endpoints("") {
		req, err := http.NewRequest(e.Method, ts.URL+params.Replace(e.Path), nil)
		if err != nil {
			t.Fatal(err)
		}
		resp, err := ts.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		// The mux answers a path it does not know with EndpointNotFound
		// "API entry point ... not found", a known path with another
		// method with 405.
		if resp.StatusCode == http.StatusMethodNotAllowed || (resp.StatusCode == http.StatusNotFound && strings.Contains(string(body), "API entry point")) {
			t.Errorf("%s %s is documented but not served: %d %s", e.Method, e.Path, resp.StatusCode, body)
		}
	}
}

// routesInSource lists "METHOD /path" for every route the api package
// registers, read from the source (the WebSocket feeds, registered in a
// loop, are left to the served check).
func routesInSource(t *testing.T) []string {
	direct := regexp.MustCompile(`s\.mux\.Handle(?:Func)?\("([A-Z]+) (/[^"]*)"`)
	signed := regexp.MustCompile(`s\.private(?:Write)?\("(/[^"]*)"`)
	var out []string
	for _, src := range sourceFiles(t) {
		for _, m := range direct.FindAllStringSubmatch(src, -1) {
			out = append(out, m[1]+" "+m[2])
		}
		for _, m := range signed.FindAllStringSubmatch(src, -1) {
			out = append(out, "POST "+m[1])
		}
	}
	if len(out) < 60 {
		t.Fatalf("only %d routes found in the source", len(out))
	}
	// Routes registered in a loop or through one pattern, spelled out as
	// the document has them. The WebSocket feeds ("GET "+p in ws.go) are
	// not found by the patterns above; the served check covers them.
	expand := map[string][]string{
		"GET /{$}":                    {"GET /"}, // the newer WebSocket API's upgrade (and the page ccxt scrapes)
		"POST /admin/v1/sandbox/sim/": {"POST /admin/v1/sandbox/sim/pause", "POST /admin/v1/sandbox/sim/resume"},
		"POST /v1/approvedAddresses/{first}/{second}": {"POST /v1/approvedAddresses/{network}/request",
			"POST /v1/approvedAddresses/{network}/remove", "POST /v1/approvedAddresses/account/{network}"},
	}
	var routes []string
	for _, r := range out {
		if x, ok := expand[r]; ok {
			routes = append(routes, x...)
			continue
		}
		routes = append(routes, r)
	}
	return routes
}

// TestOpenAPIRolesMatchTheServer calls every signed endpoint of the
// document with a key of each single role, and checks that the server
// refuses with MissingRole exactly the roles the document's x-roles leaves
// out: account keys on account and group endpoints, master keys on master
// endpoints (x-scope).
func TestOpenAPIRolesMatchTheServer(t *testing.T) {
	d, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	g := newGoldenPrivate(t)
	roles := map[string]string{"Trader": "trader", "FundManager": "fundmanager", "Auditor": "auditor", "Administrator": "administrator"}
	accountKeys, masterKeys := map[string]testKey{}, map[string]testKey{}
	for name, r := range roles {
		email := r + "@example.com"
		if name != "Administrator" {
			accountKeys[name] = newKey(t, g.ts, email, `{"roles":"`+r+`"}`)
		}
		masterKeys[name] = newKey(t, g.ts, email, `{"master":true,"roles":"`+r+`"}`)
	}
	params := strings.NewReplacer("{currency}", "btc", "{network}", "bitcoin", "{ticker}", "btc")
	checked := 0
	for _, e := range d.Endpoints("") {
		if e.XPayload == nil || e.Method != "POST" {
			continue
		}
		keys := accountKeys
		if e.XScope == "master" {
			keys = masterKeys
		}
		for role, k := range keys {
			allowed := slices.Contains(e.XRoles, role) || slices.Equal(e.XRoles, []string{"any"})
			st, body := g.signed(k, params.Replace(e.Path), "")
			var got errorBody
			json.Unmarshal(body, &got)
			if refused := got.Reason == "MissingRole"; refused == allowed {
				t.Errorf("%s with a %s %s key: %d %s; the document's x-roles say %v", e.Path, e.XScope, role, st, body, e.XRoles)
			}
			checked++
		}
	}
	if checked < 80 {
		t.Errorf("only %d calls checked", checked)
	}
}

// TestOpenAPILiveAnswersMatch drives the endpoints that have no golden
// file (the admin API, the fault injection and the funds endpoints without
// one) and validates each answer against the schema the document gives for
// its endpoint and status, so that their shapes cannot drift either.
func TestOpenAPILiveAnswersMatch(t *testing.T) {
	v, err := jsonschema.New(openapi.JSON())
	if err != nil {
		t.Fatal(err)
	}
	ts, srv := faultServer(t)
	srv.ActivityLog, _ = srv.Store.(twinex.ActivityStore)
	g := &goldenPrivate{t: t, ts: ts, clock: &testClock{t: time.Now()}, nonce: 1700000000000}
	checked := 0
	check := func(ep string, status int, body []byte) {
		t.Helper()
		t.Logf("%s: %d %.80s", ep, status, body)
		checked++
		schema, err := responseSchema(v, fmt.Sprintf("%s %d", ep, status))
		if err != nil {
			t.Errorf("%s: %v (%s)", ep, err, body)
			return
		}
		value, err := jsonschema.Decode(body)
		if err != nil {
			t.Errorf("%s: not JSON: %s", ep, body)
			return
		}
		for _, e := range v.Validate(schema, value, "$") {
			t.Errorf("%s %d: %s", ep, status, e)
		}
	}
	// admin calls the admin API and checks the answer; ep is "METHOD
	// /documented/path", url the path called (when it has parameters).
	admin := func(ep, url, body string) []byte {
		t.Helper()
		method, path, _ := strings.Cut(ep, " ")
		if url == "" {
			url = path
		}
		req, _ := http.NewRequest(method, g.ts.URL+url, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+testToken)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		data, _ := io.ReadAll(resp.Body)
		check(ep, resp.StatusCode, data)
		return data
	}
	signed := func(k testKey, ep, url, fields string) {
		t.Helper()
		_, path, _ := strings.Cut(ep, " ")
		if url == "" {
			url = path
		}
		st, body := g.signed(k, url, fields)
		check(ep, st, body)
	}

	const email = "op@example.com"
	admin("POST /admin/v1/accounts", "", `{"email":"`+email+`","verified":true}`)
	admin("POST /admin/v1/accounts", "", `{"email":"`+email+`","verified":true}`) // 400 AccountExists
	admin("GET /admin/v1/accounts", "/admin/v1/accounts?email="+email, "")
	admin("POST /admin/v1/fund", "", `{"email":"`+email+`","currency":"BTC","amount":"2"}`)
	admin("POST /admin/v1/fund", "", `{"email":"`+email+`","currency":"USD","amount":"1000"}`)
	admin("POST /admin/v1/withdraw", "", `{"email":"`+email+`","currency":"BTC","amount":"0.1"}`)
	admin("POST /admin/v1/withdraw", "", `{"email":"`+email+`","currency":"BTC","amount":"100"}`) // 406
	var order struct {
		ID string `json:"order_id"`
	}
	json.Unmarshal(admin("POST /admin/v1/orders", "", `{"email":"`+email+`","symbol":"btcusd","side":"sell","type":"exchange limit","price":"30000","amount":"0.1"}`), &order)
	admin("GET /admin/v1/orders/{id}", "/admin/v1/orders/"+order.ID, "")
	admin("GET /admin/v1/orders/{id}", "/admin/v1/orders/999999", "") // 404
	admin("POST /admin/v1/orders/cancel", "", `{"email":"`+email+`","order_id":`+order.ID+`}`)
	admin("GET /admin/v1/balances", "/admin/v1/balances?email="+email, "")
	admin("GET /admin/v1/verify", "", "")
	var key testKey
	json.Unmarshal(admin("POST /admin/v1/keys", "", `{"email":"`+email+`","roles":"trader,fundmanager"}`), &key)
	admin("GET /admin/v1/keys", "/admin/v1/keys?email="+email, "")
	master := newKey(t, g.ts, email, `{"master":true,"roles":"trader,fundmanager"}`)

	eth := "0x52908400098527886E0F7030069857D2E4169EE7"
	signed(key, "POST /v1/notionalbalances/{currency}", "/v1/notionalbalances/usd", "")
	signed(key, "POST /v1/payments/methods", "", "")
	signed(key, "POST /v1/deposit/{network}/newAddress", "/v1/deposit/bitcoin/newAddress", `,"label":"mine"`)
	signed(key, "POST /v1/addresses/{network}", "/v1/addresses/bitcoin", "")
	signed(key, "POST /v1/approvedAddresses/{network}/request", "/v1/approvedAddresses/ethereum/request", `,"address":"`+eth+`","label":"cold"`)
	signed(key, "POST /v1/approvedAddresses/account/{network}", "/v1/approvedAddresses/account/ethereum", "")
	signed(key, "POST /v1/approvedAddresses/{network}/remove", "/v1/approvedAddresses/ethereum/remove", `,"address":"`+eth+`"`)
	signed(key, "POST /v1/withdraw/{currency}", "/v1/withdraw/btc", `,"address":"bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4","amount":"0.01"`)
	signed(key, "POST /v1/order/cancel/session", "", "")
	signed(key, "POST /v1/order/status", "", `,"order_id":999999`) // 404
	signed(key, "POST /v1/balances", "", `,"account":"nobody"`)    // 400
	signed(master, "POST /v1/transactions", "", `,"limit":2`)

	admin("POST /admin/v1/faults", "", `{"id":"slow","error":"RateLimit","count":1}`)
	admin("GET /admin/v1/faults", "", "")
	admin("DELETE /admin/v1/faults/{id}", "/admin/v1/faults/slow", "")
	admin("DELETE /admin/v1/faults", "", "")
	admin("GET /admin/v1/markets", "", "")
	admin("POST /admin/v1/markets/{symbol}/status", "/admin/v1/markets/ethbtc/status", `{"status":"cancel_only"}`)
	admin("POST /admin/v1/markets/{symbol}/status", "/admin/v1/markets/nosuch/status", `{"status":"open"}`) // 400
	admin("GET /admin/v1/activity", "/admin/v1/activity?email="+email, "")
	admin("GET /admin/v1/activity", "/admin/v1/activity?unknown=true&since=1h", "")
	admin("POST /admin/v1/keys/rotate", "", `{"key":"`+key.Key+`","grace":"1m"}`)
	admin("POST /admin/v1/keys/revoke", "", `{"key":"`+key.Key+`"}`)

	// The admin API without its token, and the service endpoints.
	req, _ := http.NewRequest("GET", g.ts.URL+"/admin/v1/verify", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	data, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	check("GET /admin/v1/verify", resp.StatusCode, data)
	for _, p := range []string{"/healthz", "/readyz", "/openapi.json"} {
		resp, err := http.Get(g.ts.URL + p)
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		check("GET "+p, resp.StatusCode, data)
	}
	if checked < 35 {
		t.Errorf("only %d answers checked", checked)
	}
}

// TestOpenAPISigningExample: the document's worked example of signing
// (Gemini's own test vector) is what auth.Sign computes, and its payload
// decodes to the JSON it shows.
func TestOpenAPISigningExample(t *testing.T) {
	d, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	ex := d.Components.SecuritySchemes["GeminiSignature"].XExample
	if ex == nil {
		t.Fatal("GeminiSignature has no x-example")
	}
	if got := auth.Sign(ex.Secret, ex.Payload); got != ex.Signature {
		t.Errorf("auth.Sign gives %s, the document %s", got, ex.Signature)
	}
	if raw, err := base64.StdEncoding.DecodeString(ex.Payload); err != nil || string(raw) != ex.JSON {
		t.Errorf("the payload decodes to %q (%v), the document shows %q", raw, err, ex.JSON)
	}
}

// TestOpenAPIPayloadFieldsAreTheOnesRead compares the payload fields the
// document lists (the x-payload of every signed endpoint) with the ones the
// api package's source reads: a field read but not documented, or
// documented but never read, fails. The scan is by name, not per endpoint.
func TestOpenAPIPayloadFieldsAreTheOnesRead(t *testing.T) {
	d, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	documented := map[string]bool{}
	var collect func(s *openapi.Schema)
	collect = func(s *openapi.Schema) {
		if s == nil {
			return
		}
		if name, ok := strings.CutPrefix(s.Ref, "#/components/schemas/"); ok {
			collect(d.Components.Schemas[name])
		}
		for name := range s.Properties {
			documented[name] = true
		}
		for _, sub := range s.AllOf {
			collect(sub)
		}
	}
	for _, e := range d.Endpoints("") {
		collect(e.XPayload)
	}
	read := map[string]bool{}
	for _, re := range []*regexp.Regexp{
		regexp.MustCompile(`\b(?:p|c\.payload)\.(?:str|decimal|int|bool|has)\("(\w+)"`),
		regexp.MustCompile(`\b(?:p|c\.payload)\["(\w+)"\]`),
		regexp.MustCompile(`\((?:p|c\.payload), (?:\w+, )?"(\w+)"`),
		regexp.MustCompile(`"(\w+)": &\w+\.`), // newOrder's loop over its string fields
	} {
		for _, f := range sourceFiles(t) {
			for _, m := range re.FindAllStringSubmatch(f, -1) {
				read[m[1]] = true
			}
		}
	}
	for name := range read {
		if !documented[name] {
			t.Errorf("the server reads the payload field %q, which no x-payload documents", name)
		}
	}
	// Fields clients send that Twinex accepts and ignores, documented as
	// such.
	ignored := map[string]bool{"showPendingBalances": true}
	for name := range documented {
		if !read[name] && !ignored[name] {
			t.Errorf("x-payload documents %q, which the server never reads", name)
		}
	}
}

// sourceFiles returns the text of the api package's non-test files.
func sourceFiles(t *testing.T) []string {
	names, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, n := range names {
		if strings.HasSuffix(n, "_test.go") {
			continue
		}
		b, err := os.ReadFile(n)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, string(b))
	}
	return out
}
