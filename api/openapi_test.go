package api

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/twinex/twinex/openapi"
)

// The OpenAPI document (openapi/openapi.json) against the server: its
// reason→status table, its endpoints and the roles it says each signed
// endpoint takes. TestGoldenResponsesMatchOpenAPI (schema_test.go) checks
// its response shapes.

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

// reasonsInSource lists the Gemini reasons the repository's error
// constants name (the twinex package's reason constants).
func reasonsInSource(t *testing.T) []string {
	var out []string
	re := regexp.MustCompile(`(?m)^\s+([A-Z][A-Za-z]+)\s+= "([A-Z][A-Za-z]+)"$`)
	for _, f := range []string{"../error.go", "../address.go"} {
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[2])
		}
	}
	if len(out) < 30 {
		t.Fatalf("only %d reasons found in ../error.go", len(out))
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

// routesInSource lists "METHOD /path" for every route the api package and
// its WebSocket feeds register, read from the source.
func routesInSource(t *testing.T) []string {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	direct := regexp.MustCompile(`s\.mux\.Handle(?:Func)?\("([A-Z]+) (/[^"]*)"`)
	signed := regexp.MustCompile(`s\.private(?:Write)?\("(/[^"]*)"`)
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range direct.FindAllStringSubmatch(string(src), -1) {
			out = append(out, m[1]+" "+m[2])
		}
		for _, m := range signed.FindAllStringSubmatch(string(src), -1) {
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
		"GET /{$}":                    nil, // the page ccxt scrapes for currencies; HTML, not the REST API
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
