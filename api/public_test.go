package api

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/sqlite"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/ with the current output")

// testClock is a pinned clock the test moves by hand.
type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// publicBase is "now" once the fixture is seeded.
var publicBase = time.Date(2024, 1, 2, 0, 0, 0, 0, time.UTC)

type publicFixture struct {
	ts     *httptest.Server
	srv    *Server
	clock  *testClock
	tids   []int64 // btcusd trade ids, oldest first
	ttimes []time.Time
}

// newPublicServer starts a server on a real core and SQLite store whose
// clock is pinned, so that every byte of the public responses is
// deterministic. Snapshots are not refreshed by the ticker during a test.
func newPublicServer(t *testing.T) *publicFixture {
	t.Helper()
	db, err := sqlite.Open(t.TempDir() + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	clock := &testClock{t: publicBase.Add(-48 * time.Hour)}
	c, err := core.Open(context.Background(), core.Config{Store: db, Markets: twinex.DefaultMarkets(), Now: clock.Now, RefreshEvery: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{Core: c, Store: db, AdminToken: testToken}
	ts := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		ts.Close()
		checkLedger(t, c)
		c.Close()
		db.Close()
	})
	return &publicFixture{ts: ts, srv: s, clock: clock}
}

// do runs a command on the core; the seed goes straight to the core so
// that it does not depend on how the admin API names accounts.
func (f *publicFixture) do(t *testing.T, c engine.Command) engine.Result {
	t.Helper()
	res, err := f.srv.Core.Do(context.Background(), c)
	if err == nil {
		err = res.Err
	}
	if err != nil {
		t.Fatalf("%+v: %v", c, err)
	}
	return res
}

func (f *publicFixture) fund(t *testing.T, account int64, currency, amount string) {
	t.Helper()
	cur := f.srv.Core.Markets().Currency(currency)
	v, err := twinex.ParseUnits(amount, cur.Scale)
	if err != nil {
		t.Fatal(err)
	}
	f.do(t, engine.Command{Kind: engine.DepositFunds, AccountID: account, Currency: cur.Code, Funds: v, Method: "Test"})
}

func (f *publicFixture) place(t *testing.T, account int64, symbol string, side twinex.Side, price, amount string) engine.Result {
	t.Helper()
	ms := f.srv.Core.Markets()
	m := ms.Market(symbol)
	p, err := m.ParsePrice(price)
	if err != nil {
		t.Fatal(err)
	}
	a, err := m.ParseAmount(amount)
	if err != nil {
		t.Fatal(err)
	}
	return f.do(t, engine.Command{Kind: engine.Place, AccountID: account, Session: "test", Market: ms.Index(symbol),
		Side: side, Type: twinex.Limit, Price: p, Amount: a})
}

// trade makes one btcusd trade at the given time: account 101 sells and
// 100 buys, the taker being the given side.
func (f *publicFixture) trade(t *testing.T, at time.Time, taker twinex.Side, price, amount string) {
	t.Helper()
	f.clock.Set(at)
	acct := map[twinex.Side]int64{twinex.Buy: 100, twinex.Sell: 101}
	f.place(t, acct[taker.Opposite()], "btcusd", taker.Opposite(), price, amount)
	res := f.place(t, acct[taker], "btcusd", taker, price, amount)
	if res.Order.Filled == 0 {
		t.Fatalf("no trade at %s", price)
	}
	snap := f.srv.Core.Snapshot(f.srv.Core.Markets().Index("btcusd"))
	f.tids = append(f.tids, snap.Trades[0].ID)
	f.ttimes = append(f.ttimes, time.Unix(0, snap.Trades[0].Time))
}

// seedPublic builds the market state the golden files show: four btcusd
// trades (one before the 24-hour window), two levels on each side of the
// btcusd book, one ethbtc ask, and ethusd untouched.
func seedPublic(t *testing.T) *publicFixture {
	f := newPublicServer(t)
	f.fund(t, 100, "USD", "10000000")
	f.fund(t, 101, "BTC", "100")
	f.fund(t, 101, "ETH", "100")
	f.trade(t, publicBase.Add(-25*time.Hour), twinex.Buy, "40000.00", "0.5")
	f.trade(t, publicBase.Add(-3*time.Hour), twinex.Buy, "41000.00", "0.25")
	f.trade(t, publicBase.Add(-90*time.Minute), twinex.Sell, "40500.00", "0.1")
	f.trade(t, publicBase.Add(-10*time.Minute), twinex.Buy, "42000", "0.2")
	f.clock.Set(publicBase)
	f.place(t, 100, "btcusd", twinex.Buy, "41900.00", "0.3")
	f.place(t, 100, "btcusd", twinex.Buy, "41800.50", "1.2")
	f.place(t, 101, "btcusd", twinex.Sell, "42100", "0.4")
	f.place(t, 101, "btcusd", twinex.Sell, "42250.25", "0.75")
	f.place(t, 101, "ethbtc", twinex.Sell, "0.055", "2")
	return f
}

// get fetches path (with extra headers) and returns the status, the
// Content-Type and the body.
func get(t *testing.T, ts *httptest.Server, path string, header ...string) (int, string, []byte) {
	t.Helper()
	req, _ := http.NewRequest("GET", ts.URL+path, nil)
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// getJSON fetches a public endpoint that must answer 200 JSON and decodes
// it with numbers kept as json.Number, so tests can tell "1" from 1.
func getJSON(t *testing.T, ts *httptest.Server, path string) (any, []byte) {
	t.Helper()
	status, ct, body := get(t, ts, path)
	if status != 200 || ct != "application/json" {
		t.Fatalf("GET %s: %d %s %s", path, status, ct, body)
	}
	return decodeNumbers(t, body), body
}

func decodeNumbers(t *testing.T, body []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		t.Fatalf("%s: %v", body, err)
	}
	return v
}

// golden compares got with testdata/name.golden byte for byte, or rewrites
// the file under -update.
func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./api/ -run %s -update to create it)", err, t.Name())
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from %s (run with -update if the change is intended)\ngot:\n%s\nwant:\n%s", name, path, got, want)
	}
}

// TestPublicGolden pins the wire format of every public endpoint.
func TestPublicGolden(t *testing.T) {
	f := seedPublic(t)
	for _, c := range []struct{ name, path string }{
		{"symbols", "/v1/symbols"},
		{"symbol_details_btcusd", "/v1/symbols/details/btcusd"},
		{"symbol_details_ethbtc", "/v1/symbols/details/ethbtc"},
		{"network_btc", "/v1/network/btc"},
		{"network_usd", "/v1/network/usd"},
		{"pubticker_btcusd", "/v1/pubticker/btcusd"},
		{"pubticker_ethbtc", "/v1/pubticker/ethbtc"},
		{"pubticker_ethusd", "/v1/pubticker/ethusd"},
		{"ticker_v2_btcusd", "/v2/ticker/btcusd"},
		{"ticker_v2_ethusd", "/v2/ticker/ethusd"},
		{"book_btcusd", "/v1/book/btcusd"},
		{"book_btcusd_limits", "/v1/book/btcusd?limit_bids=1&limit_asks=0"},
		{"book_ethusd", "/v1/book/ethusd"},
		{"trades_btcusd", "/v1/trades/btcusd"},
		{"trades_btcusd_since", fmt.Sprintf("/v1/trades/btcusd?timestamp=%d&limit_trades=2", publicBase.Add(-3*time.Hour).UnixMilli())},
		{"trades_ethusd", "/v1/trades/ethusd"},
		{"candles_btcusd_1hr", "/v2/candles/btcusd/1hr"},
		{"candles_btcusd_1m", "/v2/candles/btcusd/1m"},
		{"candles_btcusd_1day", "/v2/candles/btcusd/1day"},
		{"candles_ethusd_5m", "/v2/candles/ethusd/5m"},
		{"pricefeed", "/v1/pricefeed"},
		{"feepromos", "/v1/feepromos"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, body := getJSON(t, f.ts, c.path)
			golden(t, c.name, body)
		})
	}
	t.Run("currencydata", func(t *testing.T) {
		golden(t, "currencydata", scrapeCurrencyData(t, f.ts))
	})
}

// scrapeCurrencyData does what ccxt does with GET /: split on
// `="currencyData">` and cut at `</script>`.
func scrapeCurrencyData(t *testing.T, ts *httptest.Server) []byte {
	t.Helper()
	status, ct, body := get(t, ts, "/")
	if status != 200 || !strings.HasPrefix(ct, "text/html") {
		t.Fatalf("GET /: %d %s", status, ct)
	}
	_, after, ok := strings.Cut(string(body), `="currencyData">`)
	if !ok {
		t.Fatalf("no currencyData block in %s", body)
	}
	data, _, ok := strings.Cut(after, "</script>")
	if !ok {
		t.Fatalf("currencyData block not closed: %s", body)
	}
	return []byte(data)
}

// kinds returns the JSON kind of each element of a decoded array:
// "string", "number", "bool", "null", "array" or "object".
func kinds(v any) []string {
	var out []string
	for _, e := range v.([]any) {
		out = append(out, kind(e))
	}
	return out
}

func kind(e any) string {
	switch e.(type) {
	case string:
		return "string"
	case json.Number:
		return "number"
	case bool:
		return "bool"
	case nil:
		return "null"
	case []any:
		return "array"
	}
	return "object"
}

func TestHomePageCurrencyData(t *testing.T) {
	f := seedPublic(t)
	_, _, page := get(t, f.ts, "/")
	for _, want := range []string{"<title>Twinex</title>", `<script type="application/json" id="currencyData">`, "served at this host"} {
		if !bytes.Contains(page, []byte(want)) {
			t.Errorf("GET / lacks %q", want)
		}
	}
	v := decodeNumbers(t, scrapeCurrencyData(t, f.ts)).(map[string]any)
	ms := f.srv.Core.Markets()
	pairs := v["tradingPairs"].([]any)
	if len(pairs) != len(ms.List) {
		t.Fatalf("%d tradingPairs for %d markets", len(pairs), len(ms.List))
	}
	for _, p := range pairs {
		if got, want := kinds(p), []string{"string", "number", "number", "string", "number", "bool"}; !reflect.DeepEqual(got, want) {
			t.Errorf("tradingPair %v: kinds %v, want %v", p, got, want)
		}
	}
	btc := pairs[0].([]any)
	if btc[0] != "BTCUSD" || btc[1] != json.Number("2") || btc[2] != json.Number("8") || btc[3] != "0.00001" || btc[4] != json.Number("10") || btc[5] != true {
		t.Errorf("BTCUSD pair %v", btc)
	}
	curs := v["currencies"].([]any)
	if len(curs) != len(ms.Currencies) {
		t.Fatalf("%d currencies, want %d", len(curs), len(ms.Currencies))
	}
	for i, c := range curs {
		row := c.([]any)
		want := []string{"string", "string", "number", "number", "number", "number", "number", "bool", "null", "string"}
		if ms.Currencies[i].Fiat {
			want[8], want[9] = "string", "null"
		}
		if got := kinds(row); !reflect.DeepEqual(got, want) {
			t.Errorf("currency %v: kinds %v, want %v", row, got, want)
		}
		if row[0] != ms.Currencies[i].Code || row[5] != json.Number(fmt.Sprint(ms.Currencies[i].Display)) || row[7] != ms.Currencies[i].Fiat {
			t.Errorf("currency %v does not describe %+v", row, ms.Currencies[i])
		}
	}
	// Gemini's precision at index 5, which ccxt reads (§8.1).
	for code, want := range map[string]string{"USD": "2", "BTC": "8", "ETH": "6"} {
		for _, c := range curs {
			if row := c.([]any); row[0] == code && row[5] != json.Number(want) {
				t.Errorf("%s precision (index 5) = %v, want %s", code, row[5], want)
			}
		}
	}
	nets := v["networks"].([]any)
	if len(nets) != 4 { // bitcoin, ethereum, solana, litecoin
		t.Errorf("networks %v", nets)
	}
	for _, n := range nets {
		if got := kinds(n); !reflect.DeepEqual(got, []string{"string", "string", "string"}) {
			t.Errorf("network %v: kinds %v", n, got)
		}
	}
	if n := nets[0].([]any); n[0] != "bitcoin" || n[1] != "BTC" || n[2] != "Bitcoin" {
		t.Errorf("first network %v", n)
	}
	// The block can be embedded by other pages (the dashboard).
	script, err := CurrencyDataScript(ms)
	if err != nil || !bytes.Contains(page, []byte(script)) {
		t.Errorf("CurrencyDataScript (%v) is not the block GET / serves", err)
	}
}

// TestCurrencyDataCannotCloseTheScript: a currency name with markup stays
// inside the script element.
func TestCurrencyDataCannotCloseTheScript(t *testing.T) {
	cfg := twinex.DefaultMarketConfig()
	cfg.Currencies[1].Name = "</script><b>x</b>"
	ms, err := cfg.Validate()
	if err != nil {
		t.Fatal(err)
	}
	script, err := CurrencyDataScript(ms)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Count(string(script), "</script>") != 1 || strings.Contains(string(script), "<b>") {
		t.Fatalf("markup escaped the block: %s", script)
	}
	_, after, _ := strings.Cut(string(script), `="currencyData">`)
	data, _, _ := strings.Cut(after, "</script>")
	var v struct{ Currencies [][]any }
	if err := json.Unmarshal([]byte(data), &v); err != nil || v.Currencies[1][1] != cfg.Currencies[1].Name {
		t.Fatalf("%v %v", err, v.Currencies)
	}
}

// TestPublicTypes checks, per endpoint, which values are JSON strings and
// which JSON numbers (reference §0.1), apart from the golden files.
func TestPublicTypes(t *testing.T) {
	f := seedPublic(t)
	ts := f.ts

	v, _ := getJSON(t, ts, "/v1/symbols")
	if got := v.([]any); len(got) != 5 || got[0] != "btcusd" {
		t.Errorf("symbols %v", got)
	}

	v, _ = getJSON(t, ts, "/v1/symbols/details/btcusd")
	d := v.(map[string]any)
	if d["tick_size"] != json.Number("0.00000001") || d["quote_increment"] != json.Number("0.01") || d["min_order_size"] != "0.00001" ||
		d["symbol"] != "BTCUSD" || d["wrap_enabled"] != false || d["product_type"] != "spot" || d["contract_type"] != "vanilla" || d["status"] != "open" {
		t.Errorf("details %v", d)
	}
	if _, ok := d["contract_price_currency"]; ok {
		t.Error("spot details carry contract_price_currency, which makes ccxt see a swap")
	}

	v, _ = getJSON(t, ts, "/v1/network/eth")
	if n := v.(map[string]any); n["token"] != "ETH" || !reflect.DeepEqual(n["network"], []any{"ethereum"}) {
		t.Errorf("network %v", n)
	}

	v, _ = getJSON(t, ts, "/v1/pubticker/btcusd")
	p := v.(map[string]any)
	vol := p["volume"].(map[string]any)
	snapMs := f.srv.Core.Snapshot(0).Time / 1e6
	if p["bid"] != "41900.00" || p["ask"] != "42100.00" || p["last"] != "42000.00" ||
		vol["BTC"] != "0.55" || vol["USD"] != "22700" || vol["timestamp"] != json.Number(fmt.Sprint(snapMs)) {
		t.Errorf("pubticker %v", p)
	}
	v, _ = getJSON(t, ts, "/v1/pubticker/ethusd")
	p = v.(map[string]any)
	for _, k := range []string{"bid", "ask", "last"} {
		if _, ok := p[k]; ok {
			t.Errorf("ethusd has no %s yet, got %v", k, p[k])
		}
	}

	v, _ = getJSON(t, ts, "/v2/ticker/BTCUSD")
	tk := v.(map[string]any)
	changes := tk["changes"].([]any)
	if tk["symbol"] != "BTCUSD" || tk["open"] != "41000.00" || tk["high"] != "42000.00" || tk["low"] != "40500.00" || tk["close"] != "42000.00" ||
		len(changes) != 24 || changes[0] != "42000.00" || changes[1] != "40500.00" || changes[3] != "41000.00" || changes[23] != "40000.00" {
		t.Errorf("ticker v2 %v", tk)
	}

	v, _ = getJSON(t, ts, "/v1/book/btcusd")
	b := v.(map[string]any)
	bid := b["bids"].([]any)[0].(map[string]any)
	if bid["price"] != "41900.00" || bid["amount"] != "0.3" || bid["timestamp"] != fmt.Sprint(f.srv.Core.Snapshot(0).Time/1e9) {
		t.Errorf("book bid %v", bid)
	}
	if len(b["bids"].([]any)) != 2 || len(b["asks"].([]any)) != 2 {
		t.Errorf("book %v", b)
	}

	v, _ = getJSON(t, ts, "/v1/trades/btcusd")
	tr := v.([]any)
	last := tr[0].(map[string]any)
	at := f.ttimes[3]
	if len(tr) != 4 || last["tid"] != json.Number(fmt.Sprint(f.tids[3])) || last["price"] != "42000.00" || last["amount"] != "0.2" ||
		last["timestamp"] != json.Number(fmt.Sprint(at.Unix())) || last["timestampms"] != json.Number(fmt.Sprint(at.UnixMilli())) ||
		last["exchange"] != "gemini" || last["type"] != "buy" || tr[1].(map[string]any)["type"] != "sell" {
		t.Errorf("trades %v", tr)
	}

	v, _ = getJSON(t, ts, "/v2/candles/btcusd/1hr")
	cs := v.([]any)
	first := cs[0].([]any)
	if len(cs) != 4 || !reflect.DeepEqual(kinds(first), []string{"number", "number", "number", "number", "number", "number"}) ||
		first[0] != json.Number(fmt.Sprint(publicBase.Add(-time.Hour).UnixMilli())) || first[1] != json.Number("42000") || first[5] != json.Number("0.2") {
		t.Errorf("candles %v", cs)
	}

	v, _ = getJSON(t, ts, "/v1/pricefeed")
	pf := v.([]any)
	if e := pf[0].(map[string]any); len(pf) != 5 || e["pair"] != "BTCUSD" || e["price"] != "42000.00" || e["percentChange24h"] != "0.0244" {
		t.Errorf("pricefeed %v", pf)
	}
	if e := pf[1].(map[string]any); e["pair"] != "ETHUSD" || e["percentChange24h"] != "0.0000" {
		t.Errorf("pricefeed ethusd %v", e)
	}
	if _, ok := pf[1].(map[string]any)["price"]; ok {
		t.Error("pricefeed invents a price for a market that never traded")
	}

	v, _ = getJSON(t, ts, "/v1/feepromos")
	if fp := v.(map[string]any); !reflect.DeepEqual(fp["symbols"], []any{}) {
		t.Errorf("feepromos %v", fp)
	}
}

// TestPublicCaseAndAPIKey: symbols and tokens match in any case, and an
// X-GEMINI-APIKEY header changes nothing on public routes.
func TestPublicCaseAndAPIKey(t *testing.T) {
	f := seedPublic(t)
	for _, c := range [][]string{
		{"/v1/pubticker/btcusd", "/v1/pubticker/BTCUSD", "/v1/pubticker/BtcUsd"},
		{"/v2/ticker/ethbtc", "/v2/ticker/ETHBTC"},
		{"/v1/symbols/details/btcusd", "/v1/symbols/details/BTCUSD"},
		{"/v1/book/btcusd", "/v1/book/BTCusd"},
		{"/v1/trades/btcusd", "/v1/trades/BTCUSD"},
		{"/v2/candles/btcusd/1m", "/v2/candles/BTCUSD/1m"},
		{"/v1/network/btc", "/v1/network/BTC", "/v1/network/Btc"},
	} {
		_, want := getJSON(t, f.ts, c[0])
		for _, p := range c[1:] {
			if _, got := getJSON(t, f.ts, p); !bytes.Equal(got, want) {
				t.Errorf("GET %s = %s, want as %s: %s", p, got, c[0], want)
			}
		}
		status, _, got := get(t, f.ts, c[0], "X-GEMINI-APIKEY", "account-XXXXXXXXXXXXXXXXXXXX", "X-GEMINI-PAYLOAD", "e30=")
		if status != 200 || !bytes.Equal(got, want) {
			t.Errorf("GET %s with an API key: %d %s", c[0], status, got)
		}
	}
	// The timeframe spellings of the docs' enum and of the clients.
	for _, p := range [][2]string{{"1h", "1hr"}, {"6h", "6hr"}, {"1d", "1day"}} {
		_, a := getJSON(t, f.ts, "/v2/candles/btcusd/"+p[0])
		_, b := getJSON(t, f.ts, "/v2/candles/btcusd/"+p[1])
		if !bytes.Equal(a, b) {
			t.Errorf("%s and %s differ: %s %s", p[0], p[1], a, b)
		}
	}
}

func TestPublicErrors(t *testing.T) {
	f := seedPublic(t)
	for _, c := range []struct {
		path, reason string
		status       int
	}{
		{"/v1/symbols/details/dogeusd", twinex.InvalidSymbol, 400},
		{"/v1/pubticker/dogeusd", twinex.InvalidSymbol, 400},
		{"/v2/ticker/dogeusd", twinex.InvalidSymbol, 400},
		{"/v1/book/dogeusd", twinex.InvalidSymbol, 400},
		{"/v1/trades/dogeusd", twinex.InvalidSymbol, 400},
		{"/v2/candles/dogeusd/1m", twinex.InvalidSymbol, 400},
		{"/v1/book/btcusd?limit_bids=-1", twinex.InvalidJson, 400},
		{"/v1/book/btcusd?limit_asks=abc", twinex.InvalidJson, 400},
		{"/v1/book/btcusd?limit_asks=1.5", twinex.InvalidJson, 400},
		{"/v1/book/btcusd?limit_bids=99999999999", twinex.InvalidJson, 400},
		{"/v1/trades/btcusd?timestamp=abc", twinex.InvalidTimestampInPayload, 400},
		{"/v1/trades/btcusd?timestamp=-5", twinex.InvalidTimestampInPayload, 400},
		{"/v1/trades/btcusd?timestamp=1.5", twinex.InvalidTimestampInPayload, 400},
		{"/v1/trades/btcusd?timestamp=99999999999999999999", twinex.InvalidTimestampInPayload, 400},
		{"/v1/trades/btcusd?timestamp=9999999999999999", twinex.InvalidTimestampInPayload, 400}, // ms past 2262
		{"/v1/trades/btcusd?timestamp=10000000000", twinex.InvalidTimestampInPayload, 400},      // s past 2262
		{"/v1/trades/btcusd?since=yesterday", twinex.InvalidTimestampInPayload, 400},
		{"/v1/trades/btcusd?since_tid=x", twinex.InvalidJson, 400},
		{"/v1/trades/btcusd?since_tid=-1", twinex.InvalidJson, 400},
		{"/v1/trades/btcusd?limit_trades=0", twinex.InvalidJson, 400},
		{"/v1/trades/btcusd?limit_trades=-1", twinex.InvalidJson, 400},
		{"/v1/trades/btcusd?limit_trades=ten", twinex.InvalidJson, 400},
		{"/v1/trades/btcusd?include_breaks=maybe", twinex.InvalidJson, 400},
		{"/v2/candles/btcusd/2h", twinex.InvalidJson, 400},
		{"/v2/candles/btcusd/1M", twinex.InvalidJson, 400},
		{"/v2/candles/btcusd/", twinex.EndpointNotFound, 404},
		{"/v1/network/doge", twinex.UnsupportedNetwork, HTTPStatus(twinex.UnsupportedNetwork)},
		{"/v1/pubticker/", twinex.EndpointNotFound, 404},
		{"/v1/nosuch", twinex.EndpointNotFound, 404},
	} {
		status, ct, body := get(t, f.ts, c.path)
		var v map[string]any
		json.Unmarshal(body, &v)
		if status != c.status || ct != "application/json" || v["result"] != "error" || v["reason"] != c.reason || v["message"] == "" {
			t.Errorf("GET %s: %d %s %s, want %d %s", c.path, status, ct, body, c.status, c.reason)
		}
	}
	if s := HTTPStatus(twinex.UnsupportedNetwork); s < 400 || s >= 500 {
		t.Errorf("UnsupportedNetwork maps to %d", s)
	}
	// Public routes are GET only; other methods are unknown endpoints.
	status, _ := call(t, f.ts, "POST", "/v1/symbols", "")
	if status != 404 {
		t.Errorf("POST /v1/symbols: %d", status)
	}
}

func tids(t *testing.T, ts *httptest.Server, path string) []int64 {
	t.Helper()
	v, _ := getJSON(t, ts, path)
	var out []int64
	for _, e := range v.([]any) {
		n, err := e.(map[string]any)["tid"].(json.Number).Int64()
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, n)
	}
	return out
}

// TestPublicTradesSelection pins /v1/trades' bounds: since_tid is
// exclusive and overrides timestamp, timestamp is inclusive in seconds or
// milliseconds, and with more trades after the bound than the limit the
// newest limit_trades of them are returned.
func TestPublicTradesSelection(t *testing.T) {
	f := seedPublic(t)
	id, at := f.tids, f.ttimes
	q := func(format string, args ...any) string { return "/v1/trades/btcusd?" + fmt.Sprintf(format, args...) }
	for _, c := range []struct {
		path string
		want []int64
	}{
		{q(""), []int64{id[3], id[2], id[1], id[0]}},
		{q("limit_trades=2"), []int64{id[3], id[2]}},
		{q("limit_trades=1000"), []int64{id[3], id[2], id[1], id[0]}},
		{q("limit_trades=%d", 2), []int64{id[3], id[2]}},
		// Three trades follow id[0]; the limit keeps the newest two.
		{q("since_tid=%d&limit_trades=2", id[0]), []int64{id[3], id[2]}},
		{q("since_tid=%d", id[0]), []int64{id[3], id[2], id[1]}},
		{q("since_tid=%d", id[3]), nil},
		{q("since_tid=%d&timestamp=%d", id[2], at[0].Unix()), []int64{id[3]}},
		{q("since_tid=0&timestamp=%d", at[3].Unix()), []int64{id[3], id[2], id[1], id[0]}},
		{q("timestamp=%d", at[1].Unix()), []int64{id[3], id[2], id[1]}},
		{q("timestamp=%d", at[1].UnixMilli()), []int64{id[3], id[2], id[1]}},
		{q("timestamp=%d", at[1].UnixMilli()+1), []int64{id[3], id[2]}},
		{q("since=%d", at[1].Unix()+1), []int64{id[3], id[2]}},
		{q("timestamp=%d&since=1", at[3].UnixMilli()), []int64{id[3]}},
		{q("timestamp=%d", publicBase.Unix()), nil},
		{q("timestamp=0&include_breaks=true"), []int64{id[3], id[2], id[1], id[0]}},
	} {
		if got := tids(t, f.ts, c.path); !reflect.DeepEqual(got, c.want) {
			t.Errorf("GET %s: tids %v, want %v", c.path, got, c.want)
		}
	}
}

// TestRecentTradesCover checks when the snapshot's recent trades answer a
// query by themselves, and that the store answers the same otherwise.
func TestRecentTradesCover(t *testing.T) {
	mk := func(ids ...int64) []twinex.Trade {
		var out []twinex.Trade
		for _, id := range ids {
			out = append(out, twinex.Trade{ID: id, Time: id * 1e9})
		}
		return out
	}
	recent := mk(10, 9, 8, 7) // newest first; 1-6 only in the store
	for _, c := range []struct {
		name     string
		b        tradeBound
		complete bool
		want     []int64
		ok       bool
	}{
		{"limit reached", tradeBound{Limit: 2}, false, []int64{10, 9}, true},
		{"limit is everything held", tradeBound{Limit: 4}, false, []int64{10, 9, 8, 7}, true},
		{"needs older trades", tradeBound{Limit: 5}, false, nil, false},
		{"whole history", tradeBound{Limit: 5}, true, []int64{10, 9, 8, 7}, true},
		{"bound by tid reached", tradeBound{AfterID: 8, Limit: 50}, false, []int64{10, 9}, true},
		{"bound by tid before memory", tradeBound{AfterID: 5, Limit: 50}, false, nil, false},
		{"bound by tid before memory, limit held", tradeBound{AfterID: 5, Limit: 3}, false, []int64{10, 9, 8}, true},
		{"bound by time reached", tradeBound{After: 9e9, Limit: 50}, false, []int64{10, 9}, true},
		{"bound by time at the oldest held", tradeBound{After: 7e9, Limit: 50}, false, nil, false},
	} {
		out, ok := recentTrades(recent, c.b, c.complete)
		var got []int64
		for _, tr := range out {
			got = append(got, tr.ID)
		}
		if ok != c.ok || (ok && !reflect.DeepEqual(got, c.want)) {
			t.Errorf("%s: %v %v, want %v %v", c.name, got, ok, c.want, c.ok)
		}
	}

	// Against the real store: hold only the newest trade in "memory" and
	// the store must give what the full memory gives.
	f := seedPublic(t)
	m := f.srv.Core.Markets().Market("btcusd")
	full := f.srv.Core.Snapshot(0).Trades
	for _, b := range []tradeBound{
		{Limit: 3},
		{AfterID: f.tids[0], Limit: 50},
		{AfterID: f.tids[0], Limit: 2},
		{After: f.ttimes[1].UnixNano(), Limit: 50},
	} {
		want, ok := recentTrades(full, b, true)
		if !ok {
			t.Fatal("full memory does not cover")
		}
		got, err := f.srv.selectTrades(context.Background(), m, full[:1], false, b)
		if err != nil {
			t.Fatal(err)
		}
		if len(got) != len(want) {
			t.Errorf("%+v: store %d trades, memory %d", b, len(got), len(want))
			continue
		}
		for i := range got {
			if got[i].ID != want[i].ID || got[i].Time != want[i].Time || got[i].Price != want[i].Price {
				t.Errorf("%+v: store %+v, memory %+v", b, got[i], want[i])
			}
		}
	}
}

func TestFractionChange(t *testing.T) {
	for _, c := range []struct {
		last, open int64
		want       string
	}{
		{4200000, 4100000, "0.0244"},
		{100, 100, "0.0000"},
		{99, 100, "-0.0100"},
		{1000000, 1000001, "0.0000"}, // -0.000001 rounds to zero, unsigned
		{200, 100, "1.0000"},
		{100015, 100000, "0.0002"}, // half away from zero
		{0, 100, "0.0000"},
		{100, 0, "0.0000"},
		{1 << 62, 1, "4611686018427387903.0000"},
	} {
		if got := fractionChange(c.last, c.open); got != c.want {
			t.Errorf("fractionChange(%d, %d) = %s, want %s", c.last, c.open, got, c.want)
		}
	}
}

func TestMergeLatestCandle(t *testing.T) {
	c := func(start, vol int64) twinex.Candle {
		return twinex.Candle{Timeframe: "1m", Start: start, Volume: vol}
	}
	for _, tc := range []struct {
		name   string
		stored []twinex.Candle
		latest twinex.Candle
		want   []twinex.Candle
	}{
		{"never traded", nil, twinex.Candle{}, nil},
		{"only memory", nil, c(60, 1), []twinex.Candle{c(60, 1)}},
		{"newer in memory", []twinex.Candle{c(60, 1)}, c(120, 2), []twinex.Candle{c(120, 2), c(60, 1)}},
		{"fuller in memory", []twinex.Candle{c(60, 1)}, c(60, 3), []twinex.Candle{c(60, 3)}},
		{"fuller in store", []twinex.Candle{c(60, 3)}, c(60, 1), []twinex.Candle{c(60, 3)}},
		{"older in memory", []twinex.Candle{c(120, 1)}, c(60, 5), []twinex.Candle{c(120, 1)}},
	} {
		if got := mergeLatest(tc.stored, tc.latest); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
	}
}
