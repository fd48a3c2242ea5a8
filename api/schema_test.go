package api

import (
	"fmt"
	"io"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"github.com/twinex/twinex/openapi"
	"github.com/twinex/twinex/openapi/jsonschema"
)

// goldenEndpoints names the endpoint and status of every REST golden file
// (a file name or a path.Match pattern; the longest match wins), so that
// TestGoldenResponsesMatchOpenAPI can find the schema the OpenAPI document
// gives for its answer.
var goldenEndpoints = map[string]string{
	"symbols":                          "GET /v1/symbols 200",
	"symbol_details_*":                 "GET /v1/symbols/details/{symbol} 200",
	"network_*":                        "GET /v1/network/{token} 200",
	"pubticker_*":                      "GET /v1/pubticker/{symbol} 200",
	"ticker_v2_*":                      "GET /v2/ticker/{symbol} 200",
	"book_*":                           "GET /v1/book/{symbol} 200",
	"trades_*":                         "GET /v1/trades/{symbol} 200",
	"candles_*":                        "GET /v2/candles/{symbol}/{time_frame} 200",
	"pricefeed":                        "GET /v1/pricefeed 200",
	"feepromos":                        "GET /v1/feepromos 200",
	"private_error_insufficient_funds": "POST /v1/order/new 406",
	"private_error_nonce":              "POST /v1/balances 400",
	"private_order_new_*":              "POST /v1/order/new 200",
	"private_order_cancel":             "POST /v1/order/cancel 200",
	"private_order_status_*":           "POST /v1/order/status 200",
	"private_orders":                   "POST /v1/orders 200",
	"private_orders_history":           "POST /v1/orders/history 200",
	"private_order_cancel_all":         "POST /v1/order/cancel/all 200",
	"private_mytrades":                 "POST /v1/mytrades 200",
	"private_balances*":                "POST /v1/balances 200",
	"private_tradevolume":              "POST /v1/tradevolume 200",
	"private_notionalvolume":           "POST /v1/notionalvolume 200",
	"private_heartbeat":                "POST /v1/heartbeat 200",
	"private_roles*":                   "POST /v1/roles 200",
	"private_account":                  "POST /v1/account 200",
	"private_account_create":           "POST /v1/account/create 200",
	"private_account_list":             "POST /v1/account/list 200",
	"private_account_transfer":         "POST /v1/account/transfer/{currency} 200",
	"private_transfers":                "POST /v1/transfers 200",
	"private_v2_transfers":             "POST /v2/transfers 200",
	"private_v2_withdraw":              "POST /v2/withdraw/{network}/{ticker} 200",
	"private_v2_withdraw_feeestimate":  "POST /v2/withdraw/{network}/{ticker}/feeEstimate 200",
	"private_transactions":             "POST /v1/transactions 200",
}

// TestGoldenResponsesMatchOpenAPI validates every REST golden file against
// the response schema the OpenAPI document (openapi/openapi.json) gives for
// its endpoint and status, so that the document cannot drift from what the
// server sends. The schemas are written from the facts of Gemini's OpenAPI
// description, its Go SDK's models and docs.gemini.com (issue 18); where
// Gemini's sources disagree the field carries an "x-choice" saying which
// way Twinex went, and this test checks that every such choice is exercised
// by some golden file (and logs them with -v). A new golden file without an
// entry in goldenEndpoints fails the test: give it one.
func TestGoldenResponsesMatchOpenAPI(t *testing.T) {
	v, err := jsonschema.New(openapi.JSON())
	if err != nil {
		t.Fatal(err)
	}
	files, err := filepath.Glob(filepath.Join("testdata", "*.golden"))
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".golden")
		if strings.HasPrefix(name, "ws_") || name == "currencydata" {
			continue // the WebSocket frames and the HTML page are not REST answers
		}
		ep := endpointFor(name)
		if ep == "" {
			t.Errorf("%s: no endpoint in goldenEndpoints", name)
			continue
		}
		schema, err := responseSchema(v, ep)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		value, err := jsonschema.Decode(body)
		if err != nil {
			t.Errorf("%s: not JSON: %v", name, err)
			continue
		}
		for _, e := range v.Validate(schema, value, "$") {
			t.Errorf("%s against %s: %s", name, ep, e)
		}
		checked++
	}
	if checked < 40 {
		t.Errorf("only %d golden files checked", checked)
	}
	schemas, _ := v.Resolve("#/components/schemas")
	all := jsonschema.Choices(schemas)
	sort.Strings(all)
	for _, c := range all {
		if !v.Choices[c] {
			t.Errorf("the choice %q is not exercised by any golden file", c)
		}
		t.Logf("choice: %s", c)
	}
}

// endpointFor returns the endpoint goldenEndpoints names for a golden file:
// an exact name first, else the longest matching pattern.
func endpointFor(name string) string {
	if ep, ok := goldenEndpoints[name]; ok {
		return ep
	}
	best, ep := -1, ""
	for pattern, e := range goldenEndpoints {
		if ok, _ := path.Match(pattern, name); ok && len(pattern) > best {
			best, ep = len(pattern), e
		}
	}
	return ep
}

// responseSchema returns the JSON schema the document gives for "METHOD
// path status", following a $ref to the shared responses.
func responseSchema(v *jsonschema.Validator, ep string) (any, error) {
	var method, p, status string
	if _, err := fmt.Sscanf(ep, "%s %s %s", &method, &p, &status); err != nil {
		return nil, fmt.Errorf("%q: %v", ep, err)
	}
	ptr := "#/paths/" + strings.ReplaceAll(p, "/", "~1") + "/" + strings.ToLower(method) + "/responses/" + status
	resp, ok := v.Resolve(ptr)
	if !ok {
		return nil, fmt.Errorf("the document has no %s", ep)
	}
	if ref, isRef := resp.(map[string]any)["$ref"].(string); isRef {
		if resp, ok = v.Resolve(ref); !ok {
			return nil, fmt.Errorf("%s: unknown %s", ep, ref)
		}
	}
	schema, ok := v.Resolve(ptr + "/content/application~1json/schema")
	if !ok {
		m, _ := resp.(map[string]any)["content"].(map[string]any)
		j, _ := m["application/json"].(map[string]any)
		if schema, ok = j["schema"]; !ok {
			return nil, fmt.Errorf("%s has no JSON schema", ep)
		}
	}
	return schema, nil
}

// TestSchemaValidatorRefusesTheOldShapes keeps the schemas honest: the
// shapes issue 18 measured as wrong fail them.
func TestSchemaValidatorRefusesTheOldShapes(t *testing.T) {
	v, err := jsonschema.New(openapi.JSON())
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ def, body string }{
		// a trade row in the mytrades shape
		{"Transactions", `{"results":[{"account":"primary","type":"Buy","price":"1","amount":"1","timestampms":1,"tid":1,"order_id":"2","aggressor":true,"fee_amount":"0","fee_currency":"USD","is_auction_fill":false,"symbol":"BTCUSD","exchange":"gemini"}]}`},
		// a transfer row with txHash and no transferType
		{"Transactions", `{"results":[{"account":"primary","type":"Deposit","status":"Complete","timestampms":1,"eid":1,"currency":"BTC","amount":"1","txHash":"ab"}]}`},
		// orderId as a string
		{"TradeTransaction", `{"type":"trade","account":"a","symbol":"BTCUSD","side":"buy","price":"1","amount":"1","timestampms":1,"tid":1,"orderId":"2","clientOrderId":"","isAggressor":true,"feeAmount":"0","feeAssetCode":"USD","isAuctionFill":false,"isClearingFill":false,"exchange":"gemini"}`},
		{"Balances", `[{"type":"exchange","currency":"BTC","amount":1,"available":"1","availableForWithdrawal":"1"}]`},
		{"FeeEstimateV2Response", `{"currency":"BTC","fee":"0","isOverride":false,"monthlyLimit":0,"monthlyRemaining":0}`},
		{"CandleResponse", `[[1,2,3,4,5]]`},
		{"Transfers", `[{"type":"Deposit","status":"Complete","timestampms":1,"eid":1,"currency":"BTC","amount":"1","network":"bitcoin"}]`},
		{"Order", `{"order_id":"1"}`},
		{"ErrorResponse", `{"result":"error","reason":"NoSuchReason","message":"x"}`},
	} {
		value, err := jsonschema.Decode([]byte(c.body))
		if err != nil {
			t.Fatal(err)
		}
		if errs := v.ValidateRef("#/components/schemas/"+c.def, value, "$"); len(errs) == 0 {
			t.Errorf("%s accepted %s", c.def, c.body)
		}
	}
}

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
