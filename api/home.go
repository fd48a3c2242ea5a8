package api

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strings"

	"github.com/twinex/twinex"
)

// The page at the host root, and the currencyData block on it that ccxt
// reads (reference §8.1); the dashboard carries the same block.

// homePage is GET /: a minimal page that carries the currencyData block.
var homePage = template.Must(template.New("home").Parse(`<!DOCTYPE html>
<html lang="en">
<head><meta charset="utf-8"><title>Twinex</title></head>
<body>
<h1>Twinex</h1>
<p>The Gemini-compatible exchange API is served at this host ({{.Host}}), for example <a href="/v1/symbols">/v1/symbols</a>.</p>
{{.CurrencyData}}
</body>
</html>
`))

func (s *Server) home(w http.ResponseWriter, r *http.Request) {
	switch {
	case isWebSocket(r):
		s.wsFast(w, r) // the newer WebSocket API lives at the root (ws_fast.go)
		return
	case isUpgrade(r):
		// Any other protocol upgrade at the root gets a clear refusal,
		// never the HTML page.
		s.writeError(w, r, twinex.Errorf(twinex.EndpointNotFound,
			"Only a WebSocket upgrade is served at the host root (the newer WebSocket API); the Gemini feeds are at /v1/marketdata/:symbol, /v1/multimarketdata, /v2/marketdata and /v1/order/events"))
		return
	}
	script, err := CurrencyDataScript(s.Core.Markets())
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	var buf bytes.Buffer
	if err := homePage.Execute(&buf, struct {
		Host         string
		CurrencyData template.HTML
	}{r.Host, script}); err != nil {
		s.writeError(w, r, fmt.Errorf("home page: %w", err))
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(http.StatusOK)
	_, _ = w.Write(buf.Bytes())
}

// CurrencyData returns the JSON ccxt's fetchCurrencies and fetchMarkets
// scrape from the exchange web page (reference §8.1):
//
//	tradingPairs: [SYMBOL, priceDecimals, amountDecimals, "minAmount", roundDecimals, true]
//	currencies:   [code, name, numericId, displayDecimals, fiatDecimals, precision, maxDisplay, fiat, symbol|null, network|null]
//	networks:     [id, code, name]
//
// ccxt reads tradingPairs 0-3, currencies 0, 1, 5, 7 and 9, and keeps only
// the markets listed both here and in /v1/symbols. The slots it ignores
// follow the pattern of Gemini's own page ("BTC",...,8,0,8,8 and
// "USD",...,2,2,2,2):
//
//   - roundDecimals (pair 4): the quote currency's ledger scale, in which
//     every notional is exact (10 for BTCUSD, as on Gemini);
//   - numericId (2): the currency's position in the market configuration;
//   - displayDecimals (3): Currency.Display; fiatDecimals (4): Display for
//     fiat, 0 for crypto; maxDisplay (6): Display for fiat, 8 for crypto;
//   - precision (5): Currency.Display, Gemini's precision for the
//     currency (8 for BTC, 2 for USD, as Gemini sends it), which ccxt
//     reads as the currency's precision; withdrawals and transfers accept
//     exactly that many decimals (Currency.ParseTransferAmount). The
//     ledger's finer Scale is an internal matter, not sent;
//   - fiat (7): a JSON boolean, as Gemini sends it (note that ccxt
//     4.5.84 treats any present value, false included, as fiat);
//   - symbol (8): the sign of a few well-known fiat currencies, else null;
//   - networks: one per distinct Currency.Network, named after it ("bitcoin"
//     → "Bitcoin"), with the code of the first currency on it.
func CurrencyData(ms *twinex.Markets) ([]byte, error) {
	pairs := [][]any{}
	for _, m := range ms.List {
		pairs = append(pairs, []any{strings.ToUpper(m.Symbol), m.PriceDecimals, m.AmountDecimals, m.FormatAmount(m.MinAmount), m.QuoteScale(), true})
	}
	currencies := [][]any{}
	networks := [][]any{}
	seen := map[string]bool{}
	for i, c := range ms.Currencies {
		fiatDecimals, maxDisplay := 0, 8
		if c.Fiat {
			fiatDecimals, maxDisplay = c.Display, c.Display
		}
		var sign, network any
		if sg := fiatSign(c.Code); sg != "" && c.Fiat {
			sign = sg
		}
		if c.Network != "" {
			network = c.Network
			if !seen[c.Network] {
				seen[c.Network] = true
				networks = append(networks, []any{c.Network, c.Code, strings.ToUpper(c.Network[:1]) + c.Network[1:]})
			}
		}
		currencies = append(currencies, []any{c.Code, c.Name, i, c.Display, fiatDecimals, c.Display, maxDisplay, c.Fiat, sign, network})
	}
	// json.Marshal escapes <, > and &, so the JSON cannot end the script
	// element it is embedded in.
	// The rows are tuples of mixed types, as ccxt reads them; the keys are
	// in the order a map's were encoded in (the golden file pins them).
	b, err := json.Marshal(struct {
		Currencies   [][]any `json:"currencies"`
		Networks     [][]any `json:"networks"`
		TradingPairs [][]any `json:"tradingPairs"`
	}{currencies, networks, pairs})
	if err != nil {
		return nil, fmt.Errorf("currency data: %w", err)
	}
	return b, nil
}

// fiatSign returns the display symbol of a fiat currency Gemini lists, or "".
func fiatSign(code string) string {
	switch code {
	case "USD":
		return "$"
	case "EUR":
		return "€"
	case "GBP":
		return "£"
	case "SGD":
		return "S$"
	case "CAD":
		return "C$"
	case "AUD":
		return "A$"
	case "HKD":
		return "HK$"
	case "JPY":
		return "¥"
	}
	return ""
}

// CurrencyDataScript returns CurrencyData wrapped in the script element
// ccxt looks for (it splits the page on `="currencyData">` and cuts at
// `</script>`), ready to embed in any HTML page.
func CurrencyDataScript(ms *twinex.Markets) (template.HTML, error) {
	b, err := CurrencyData(ms)
	if err != nil {
		return "", err
	}
	return template.HTML(`<script type="application/json" id="currencyData">` + string(b) + `</script>`), nil
}

// isUpgrade reports whether r asks to switch protocols (a WebSocket
// handshake).
func isUpgrade(r *http.Request) bool {
	return r.Header.Get("Upgrade") != "" && strings.Contains(strings.ToLower(r.Header.Get("Connection")), "upgrade")
}
