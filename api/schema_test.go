package api

import (
	"fmt"
	"os"
	"path"
	"path/filepath"
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
