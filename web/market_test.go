package web_test

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/twinex/twinex"
)

// TestMarketPage: the market page is public, names its pair for the
// script, and serves the script; the open-orders endpoint needs a session
// and answers JSON.
func TestMarketPage(t *testing.T) {
	e := newEnv(t, withExchange(t, true))
	anon := e.browser("192.0.2.20")
	p := anon.get("/markets/BTCUSD")
	if p.StatusCode != http.StatusOK || !strings.Contains(p.Body, `data-pair="BTCUSD"`) || !strings.Contains(p.Body, `/static/market.js`) {
		t.Fatalf("market page: %d %s", p.StatusCode, p.Body)
	}
	if strings.Contains(p.Body, `id="order-rows"`) {
		t.Fatal("open orders shown to a visitor")
	}
	if p := anon.get("/static/market.js"); p.StatusCode != http.StatusOK || !strings.Contains(p.Body, "/v2/marketdata") {
		t.Fatalf("script: %d", p.StatusCode)
	}
	if p := anon.get("/markets/dogeusd"); p.StatusCode != http.StatusNotFound {
		t.Fatalf("unknown market: %d", p.StatusCode)
	}
	if p := anon.get("/markets/btcusd/orders"); strings.HasPrefix(p.Body, "[") {
		t.Fatalf("orders without a session: %d %s", p.StatusCode, p.Body)
	}
	b := e.browser("192.0.2.21")
	b.signup("mo@example.com", goodPassword)
	b.login("mo@example.com", goodPassword)
	if p := b.get("/markets/btcusd"); !strings.Contains(p.Body, `id="order-rows"`) {
		t.Fatal("no open orders table for a signed-in user")
	}
	if p := b.get("/markets/btcusd/orders"); p.StatusCode != http.StatusOK || strings.TrimSpace(p.Body) != "[]" {
		t.Fatalf("orders: %d %q", p.StatusCode, p.Body)
	}
	// A resting order shows; one in another market does not.
	x := e.srv.Exchange
	accts, _ := e.db.Accounts(t.Context(), mustUser(t, e, "mo@example.com").ID)
	x.Welcome(t.Context(), accts[0].ID)
	res, err := x.Place(t.Context(), mustParse(t, x, "btcusd", "buy", "100", "0.01"), accts[0].ID, "UI", twinex.KeyUse{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := x.Place(t.Context(), mustParse(t, x, "ethusd", "buy", "100", "0.01"), accts[0].ID, "UI", twinex.KeyUse{}); err != nil {
		t.Fatal(err)
	}
	p = b.get("/markets/btcusd/orders")
	if !strings.Contains(p.Body, `"id":"`+strconv.FormatInt(res.Order.ID, 10)+`"`) || strings.Count(p.Body, `"id"`) != 1 {
		t.Fatalf("orders: %s", p.Body)
	}
}
