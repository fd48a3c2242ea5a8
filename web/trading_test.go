package web_test

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/exchange"
	"github.com/twinex/twinex/web"
)

// withExchange gives the dashboard a core on the env's store and the
// sandbox's default test funds (faucet false: production, none).
func withExchange(t *testing.T, faucet bool) func(*web.Server) {
	return func(s *web.Server) {
		db := s.Store.(twinex.ExchangeStore)
		c, err := core.Open(context.Background(), core.Config{Store: db, Markets: twinex.DefaultMarkets()})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			var cerr error
			if err := c.Inspect(context.Background(), func(x *engine.Exchange) { cerr = x.Check() }); err != nil || cerr != nil {
				t.Errorf("ledger check: %v %v", err, cerr)
			}
			c.Close()
		})
		s.Exchange = &exchange.Service{Core: c, Store: db, Accounts: s.Accounts}
		if faucet {
			s.Exchange.Faucet = exchange.DefaultFaucet(twinex.DefaultMarkets())
			s.Sandbox = true
		}
	}
}

func TestNewSandboxUserStartsWithTestFundsAndTopsUp(t *testing.T) {
	e := newEnv(t, withExchange(t, true))
	b := e.browser("192.0.2.50")
	b.signup("ida@example.com", goodPassword)
	p := b.get(e.link("ida@example.com"))
	wantBody(t, p, "10,000 USD", "sandbox test funds")
	// A second verification link gives nothing more.
	b.get(e.link("ida@example.com"))
	wantStatus(t, b.login("ida@example.com", goodPassword), http.StatusSeeOther)

	p = b.get("/")
	wantBody(t, p, "Your balances", "10,000.00", "Add test funds or transfer")
	p = b.get("/balances")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, `<td class="num" data-label="Total">10,000.00</td>`, `action="/balances/test-funds"`, "up to 100,000 USD")

	// Nine top-ups reach the cap; the tenth is refused, tied to its field.
	for range 9 {
		p = b.post("/balances/test-funds", url.Values{"fund_account": {"primary"}, "fund_currency": {"USD"}})
		wantStatus(t, p, http.StatusSeeOther)
	}
	b.get("/balances")
	p = b.post("/balances/test-funds", url.Values{"fund_account": {"primary"}, "fund_currency": {"USD"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, "No test funds were added", `aria-invalid="true"`, `id="fund_currency-error"`, "already hold 100,000 USD")
	p = b.get("/balances")
	wantBody(t, p, `<td class="num" data-label="Total">100,000.00</td>`)
	// Someone else's account, or a currency without test funds, is refused.
	p = b.post("/balances/test-funds", url.Values{"fund_account": {"not-mine"}, "fund_currency": {"USD"}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p, `aria-describedby="fund_account-error"`)
	b.get("/balances")
	wantStatus(t, b.post("/balances/test-funds", url.Values{"fund_account": {"primary"}, "fund_currency": {"DOGE"}}), http.StatusUnprocessableEntity)
	// Without the CSRF token nothing happens.
	wantStatus(t, b.post("/balances/test-funds", url.Values{"csrf": {"x"}, "fund_account": {"primary"}, "fund_currency": {"BTC"}}), http.StatusForbidden)
}

func TestProductionHasNoTestFunds(t *testing.T) {
	e := newEnv(t, withExchange(t, false))
	b := e.browser("192.0.2.51")
	verifiedUser(t, e, b, "jo@example.com")
	p := b.get("/balances")
	wantStatus(t, p, http.StatusOK)
	if strings.Contains(p.Body, "test-funds") || strings.Contains(p.Body, "Add test funds") {
		t.Fatalf("production offers test funds:\n%s", p.Body)
	}
	wantBody(t, p, "No funds in this account yet")
	wantStatus(t, b.post("/balances/test-funds", url.Values{"fund_account": {"primary"}, "fund_currency": {"USD"}}), http.StatusUnprocessableEntity)
	if p := b.get("/balances"); strings.Contains(p.Body, `data-label="Total"`) {
		t.Fatal("production added test funds")
	}
}

func TestTransferBetweenOwnAccounts(t *testing.T) {
	e := newEnv(t, withExchange(t, true))
	b := e.browser("192.0.2.52")
	verifiedUser(t, e, b, "kay@example.com")
	p := b.get("/balances")
	wantBody(t, p, "You have one account")
	b.get("/settings/accounts")
	b.post("/settings/accounts", url.Values{"name": {"Bots"}})
	p = b.get("/balances")
	wantBody(t, p, `action="/balances/transfer"`, `<option value="bots" selected>`)

	for _, c := range []struct {
		form  url.Values
		field string
	}{
		{url.Values{"from": {"primary"}, "to": {"bots"}, "currency": {"USD"}, "amount": {""}}, "amount"},
		{url.Values{"from": {"primary"}, "to": {"bots"}, "currency": {"USD"}, "amount": {"-5"}}, "amount"},
		{url.Values{"from": {"primary"}, "to": {"bots"}, "currency": {"USD"}, "amount": {"20000"}}, "amount"},
		{url.Values{"from": {"primary"}, "to": {"primary"}, "currency": {"USD"}, "amount": {"5"}}, "to"},
		{url.Values{"from": {"primary"}, "to": {"theirs"}, "currency": {"USD"}, "amount": {"5"}}, "to"},
		{url.Values{"from": {"primary"}, "to": {"bots"}, "currency": {"DOGE"}, "amount": {"5"}}, "currency"},
	} {
		b.get("/balances")
		p := b.post("/balances/transfer", c.form)
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantBody(t, p, "Nothing was transferred", `id="`+c.field+`-error"`, c.field+`-error"`, `aria-invalid="true"`)
	}
	b.get("/balances")
	p = b.post("/balances/transfer", url.Values{"from": {"primary"}, "to": {"bots"}, "currency": {"USD"}, "amount": {"2,500.5"}})
	wantStatus(t, p, http.StatusSeeOther)
	p = b.follow(p)
	wantBody(t, p, "The transfer is done", "7,499.50", "2,500.50")
}

func TestOrdersFillsCancelAndExport(t *testing.T) {
	e := newEnv(t, withExchange(t, true))
	b := e.browser("192.0.2.53")
	verifiedUser(t, e, b, "lee@example.com")
	u := mustUser(t, e, "lee@example.com")
	accts, _ := e.db.Accounts(t.Context(), u.ID)
	x := e.srv.Exchange
	ms := x.Core.Markets()
	m := ms.Market("btcusd")
	bots := twinex.Account{UserID: u.ID, Name: "Bots", Nickname: "bots", Type: "exchange", Created: 1}
	if err := e.db.CreateAccount(t.Context(), &bots); err != nil {
		t.Fatal(err)
	}
	if err := x.Welcome(t.Context(), bots.ID); err != nil {
		t.Fatal(err)
	}
	place := func(acct int64, side twinex.Side, price, amount, coid string) twinex.Order {
		t.Helper()
		p, _ := m.ParsePrice(price)
		a, _ := m.ParseAmount(amount)
		res, err := x.Core.Do(t.Context(), engine.Command{Kind: engine.Place, AccountID: acct, Market: ms.Index("btcusd"), Side: side, Type: twinex.Limit, Price: p, Amount: a, ClientOrderID: coid})
		if err == nil {
			err = res.Err
		}
		if err != nil {
			t.Fatal(err)
		}
		return res.Order
	}
	// Thirty buys fill against the bots' sells; one buy rests.
	for i := 0; i < 30; i++ {
		place(bots.ID, twinex.Sell, "100", "0.01", "")
		place(accts[0].ID, twinex.Buy, "100", "0.01", "=cmd")
	}
	rest := place(accts[0].ID, twinex.Buy, "90", "0.5", "")

	p := b.get("/orders")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "BTCUSD", `aria-label="Cancel order `+itoa(rest.ID)+`"`)
	p = b.get("/balances")
	wantBody(t, p, `<td class="num" data-label="Held by open orders">45.1575</td>`)

	// Fills: 25 a page, then the rest.
	p = b.get("/orders?tab=fills")
	wantBody(t, p, "Taker", "0.01", `tab=fills&amp;before=`)
	if n := strings.Count(p.Body, `data-label="Fee"`); n != 25 {
		t.Fatalf("first page has %d fills", n)
	}
	older := p.Body[strings.Index(p.Body, "before=")+len("before="):]
	older = older[:strings.IndexByte(older, '"')]
	p = b.get("/orders?tab=fills&before=" + older)
	if n := strings.Count(p.Body, `data-label="Fee"`); n != 5 {
		t.Fatalf("second page has %d fills", n)
	}
	wantStatus(t, b.get("/orders?tab=fills&before=x"), http.StatusBadRequest)
	wantStatus(t, b.get("/orders?account=someone-else"), http.StatusNotFound)

	// CSV exports everything, with formula-looking ids defused.
	p = b.get("/orders/export?tab=history")
	wantStatus(t, p, http.StatusOK)
	if ct := p.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/csv") {
		t.Fatalf("export type %q", ct)
	}
	rows, err := csv.NewReader(strings.NewReader(p.Body)).ReadAll()
	if err != nil || len(rows) != 31 || rows[0][0] != "order_id" {
		t.Fatalf("history export: %d rows, %v\n%s", len(rows), err, p.Body)
	}
	if !strings.Contains(p.Body, "'=cmd") {
		t.Fatalf("client order id not defused:\n%s", p.Body)
	}
	p = b.get("/orders/export?tab=fills")
	if rows, _ := csv.NewReader(strings.NewReader(p.Body)).ReadAll(); len(rows) != 31 {
		t.Fatalf("fills export: %d rows", len(rows))
	}

	// Cancel: the funds it held are free again; a second cancel says so.
	b.get("/orders")
	p = b.post("/orders/"+itoa(rest.ID)+"/cancel", url.Values{"account": {"primary"}})
	wantStatus(t, p, http.StatusSeeOther)
	wantBody(t, b.follow(p), "The order is cancelled", "No open orders")
	p = b.post("/orders/"+itoa(rest.ID)+"/cancel", url.Values{"account": {"primary"}})
	wantBody(t, b.follow(p), "had already closed")
	wantStatus(t, b.post("/orders/999999/cancel", url.Values{"account": {"primary"}}), http.StatusNotFound)
	wantStatus(t, b.post("/orders/abc/cancel", url.Values{"account": {"primary"}}), http.StatusNotFound)
	p = b.get("/orders?tab=history")
	wantBody(t, p, "cancelled", "filled")
}

// Enter in the key form's Label field submits it before the password is
// typed: that is not a wrong password and never locks the login.
func TestEmptyConfirmPasswordIsNotAFailedLogin(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.54")
	verifiedUser(t, e, b, "max@example.com")
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	accts, _ := e.db.Accounts(t.Context(), mustUser(t, e, "max@example.com").ID)
	for range 8 {
		b.get("/settings/api")
		p := b.post("/settings/api/keys", url.Values{"label": {"grid bot"}, "scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {""}})
		wantStatus(t, p, http.StatusUnprocessableEntity)
		wantBody(t, p, "Enter your password to confirm", `value="grid bot"`)
	}
	b.get("/settings/api")
	p := b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "roles_trader": {"on"}, "password": {goodPassword}})
	wantStatus(t, p, http.StatusSeeOther)
	if p := b.get("/settings"); strings.Contains(p.Body, "Wrong password when confirming") {
		t.Fatal("an empty password was recorded as a failure")
	}
	b2 := e.browser("192.0.2.54")
	wantStatus(t, b2.login("max@example.com", goodPassword), http.StatusSeeOther)
}

func TestLandingShowsPrices(t *testing.T) {
	e := newEnv(t, withExchange(t, true))
	x := e.srv.Exchange
	ms := x.Core.Markets()
	m := ms.Market("ethusd")
	u := twinex.User{Email: "mm@example.com", PasswordHash: "x", Created: 1}
	acct, err := e.db.CreateUser(t.Context(), &u)
	if err != nil {
		t.Fatal(err)
	}
	other := twinex.Account{UserID: u.ID, Name: "B", Nickname: "b", Type: "exchange", Created: 1}
	if err := e.db.CreateAccount(t.Context(), &other); err != nil {
		t.Fatal(err)
	}
	for _, a := range []int64{acct.ID, other.ID} {
		if err := x.Welcome(t.Context(), a); err != nil {
			t.Fatal(err)
		}
	}
	for _, price := range []string{"2000", "2050"} {
		p, _ := m.ParsePrice(price)
		a, _ := m.ParseAmount("1")
		for i, side := range []twinex.Side{twinex.Sell, twinex.Buy} {
			if res, err := x.Core.Do(t.Context(), engine.Command{Kind: engine.Place, AccountID: []int64{acct.ID, other.ID}[i], Market: ms.Index("ethusd"), Side: side, Type: twinex.Limit, Price: p, Amount: a}); err != nil || res.Err != nil {
				t.Fatal(err, res.Err)
			}
		}
	}
	p := e.browser("192.0.2.55").get("/")
	wantBody(t, p, "Last price", "2,050.00 USD", "change-up", "2.50%", "2 ETH", "Test funds")
	// A status the operator sets shows at once.
	if res, err := x.Core.Do(t.Context(), engine.Command{Kind: engine.SetMarketStatus, Market: ms.Index("ethusd"), Status: twinex.MarketStatus("cancel_only")}); err != nil || res.Err != nil {
		t.Fatal(err, res.Err)
	}
	wantBody(t, e.browser("192.0.2.55").get("/"), "cancel_only")
}

// Errors on the key form's select, textarea and fieldsets are tied to
// their controls for screen readers, like the text boxes'.
func TestKeyFormErrorsAreTiedToFields(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox, s.AutoApproveIdentity = true, true })
	b := e.browser("192.0.2.56")
	verifiedUser(t, e, b, "ned@example.com")
	b.get("/settings/identity")
	b.post("/settings/identity", identity())
	accts, _ := e.db.Accounts(t.Context(), mustUser(t, e, "ned@example.com").ID)
	b.get("/settings/api")
	p := b.post("/settings/api/keys", url.Values{"scope": {itoa(accts[0].ID)}, "allowlist": {"not an address"}, "expires": {"date"}, "expires_on": {"1999-01-01"}, "password": {goodPassword}})
	wantStatus(t, p, http.StatusUnprocessableEntity)
	wantBody(t, p,
		`aria-describedby="allowlist-hint allowlist-error" aria-invalid="true"`, `id="allowlist-error"`,
		`aria-describedby="roles-error"`, `id="roles-error"`,
		`<select id="expires" name="expires" aria-invalid="true" aria-describedby="expires-error">`, `id="expires-error"`)
}

func TestBalancesListMovements(t *testing.T) {
	e := newEnv(t, withExchange(t, true))
	b := e.browser("192.0.2.57")
	verifiedUser(t, e, b, "ola@example.com")
	b.get("/settings/accounts")
	b.post("/settings/accounts", url.Values{"name": {"Bots"}})
	b.get("/balances")
	b.post("/balances/transfer", url.Values{"from": {"primary"}, "to": {"bots"}, "currency": {"BTC"}, "amount": {"0.25"}})
	p := b.get("/balances")
	wantBody(t, p, "Latest movements of Primary", "Test funds", "Transfer out", "−0.25000000", "to Bots")
	p = b.get("/balances?account=bots")
	wantBody(t, p, "Latest movements of Bots", "Transfer in", "from Primary", `<option value="bots" selected>`)
	if strings.Contains(p.Body, "Test funds</th>") {
		t.Fatal("the bots account lists test funds it never had")
	}
}

// TestPlaceOrderFromTheDashboard: a verified sandbox user places orders
// from the orders page through the API's rule: one rests (session UI),
// one crosses another account's order and fills, bad input is refused on
// its field with nothing placed.
func TestPlaceOrderFromTheDashboard(t *testing.T) {
	e := newEnv(t, withExchange(t, true))
	b := e.browser("192.0.2.57")
	verifiedUser(t, e, b, "ora@example.com")
	u := mustUser(t, e, "ora@example.com")
	x := e.srv.Exchange
	accts, _ := e.db.Accounts(t.Context(), u.ID)
	if err := x.Welcome(t.Context(), accts[0].ID); err != nil {
		t.Fatal(err)
	}
	p := b.get("/orders")
	wantBody(t, p, "Place an order", `action="/orders/new"`, "Stop price (stop-limit only)")
	order := func(fields map[string]string) page {
		form := url.Values{"account": {"primary"}, "symbol": {"btcusd"}, "side": {"buy"}, "kind": {"limit"}}
		for k, v := range fields {
			form.Set(k, v)
		}
		return b.post("/orders/new", form)
	}
	p = order(map[string]string{"amount": "0.01", "price": "1,000"})
	if p.StatusCode != http.StatusSeeOther || !strings.Contains(p.Header.Get("Location"), "m=order_placed") {
		t.Fatalf("resting order: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	open, _ := x.OpenOrders(t.Context(), accts[0].ID)
	if len(open) != 1 || open[0].Session != exchange.UISession || open[0].Market != "btcusd" {
		t.Fatalf("open orders %+v", open)
	}
	wantBody(t, b.get("/orders?account=primary&m=order_placed"), "rests on the book", "#"+itoa(open[0].ID))

	for _, c := range []struct {
		fields map[string]string
		field  string
	}{
		{map[string]string{"amount": "0.01", "price": "1000.001"}, `id="price-error"`},
		{map[string]string{"amount": ".5", "price": "1000"}, `id="amount-error"`},
		{map[string]string{"amount": "0.01", "price": ""}, `id="price-error"`},
		{map[string]string{"amount": "1000", "price": "1000"}, `id="amount-error"`}, // more than 10,000 USD
		{map[string]string{"symbol": "dogeusd", "amount": "1", "price": "1"}, `id="symbol-error"`},
		{map[string]string{"side": "hold", "amount": "1", "price": "1"}, `id="side-error"`},
		{map[string]string{"kind": "market", "amount": "1", "price": "1"}, `id="kind-error"`},
		{map[string]string{"kind": "stop-limit", "amount": "0.01", "price": "1000"}, `id="stop-error"`},
	} {
		p := order(c.fields)
		if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, c.field) || !strings.Contains(p.Body, "No order was placed") {
			t.Errorf("%v: %d, want 422 with %s", c.fields, p.StatusCode, c.field)
		}
	}
	if open, _ := x.OpenOrders(t.Context(), accts[0].ID); len(open) != 1 {
		t.Fatalf("refused orders left %d open orders", len(open))
	}

	// Another account sells; a crossing buy from the dashboard fills.
	other := twinex.Account{UserID: u.ID, Name: "Seller", Nickname: "seller", Type: "exchange", Created: 1}
	if err := e.db.CreateAccount(t.Context(), &other); err != nil {
		t.Fatal(err)
	}
	x.Welcome(t.Context(), other.ID)
	if _, err := x.Place(t.Context(), mustParse(t, x, "btcusd", "sell", "2000", "0.01"), other.ID, "test", twinex.KeyUse{}); err != nil {
		t.Fatal(err)
	}
	p = order(map[string]string{"amount": "0.01", "price": "2000", "kind": "immediate-or-cancel"})
	if !strings.Contains(p.Header.Get("Location"), "m=order_filled") {
		t.Fatalf("crossing order: %d %s", p.StatusCode, p.Header.Get("Location"))
	}
	fills, _ := x.Fills(t.Context(), accts[0].ID, 0, 10)
	if len(fills) != 1 || fills[0].Side != twinex.Buy {
		t.Fatalf("fills %+v", fills)
	}
}

func mustParse(t *testing.T, x *exchange.Service, symbol, side, price, amount string) engine.Command {
	t.Helper()
	c, _, err := x.ParseOrder(exchange.OrderRequest{Symbol: symbol, Side: side, Type: "exchange limit", Price: price, HasPrice: true, Amount: amount, HasAmount: true})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestFormAmountsKeepDecimalCommas: "1,5" is not fifteen.
func TestFormAmountsKeepDecimalCommas(t *testing.T) {
	e := newEnv(t, withExchange(t, true))
	b := e.browser("192.0.2.58")
	verifiedUser(t, e, b, "cy@example.com")
	u := mustUser(t, e, "cy@example.com")
	if err := e.db.CreateAccount(t.Context(), &twinex.Account{UserID: u.ID, Name: "Other", Nickname: "other", Type: "exchange", Created: 1}); err != nil {
		t.Fatal(err)
	}
	b.get("/balances")
	p := b.post("/balances/transfer", url.Values{"from": {"primary"}, "to": {"other"}, "currency": {"BTC"}, "amount": {"0,5"}})
	if p.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(p.Body, `id="amount-error"`) {
		t.Fatalf("a decimal comma: %d", p.StatusCode)
	}
	p = b.post("/balances/transfer", url.Values{"from": {"primary"}, "to": {"other"}, "currency": {"USD"}, "amount": {"1,000.5"}})
	if p.StatusCode != http.StatusSeeOther {
		t.Fatalf("thousands separators: %d", p.StatusCode)
	}
}
