package e2e

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/twinex/twinex/app"
	"github.com/twinex/twinex/gemini"
)

// page drives one browser through a test.
type page struct {
	t    *testing.T
	ctx  context.Context
	shot func(string)
}

func (p *page) run(what string, steps ...chromedp.Action[chromedp.Void]) {
	p.t.Helper()
	if err := chromedp.Do(p.ctx, steps...); err != nil {
		p.t.Fatalf("%s: %v", what, err)
	}
}

func (p *page) text(sel string) string {
	p.t.Helper()
	s, err := chromedp.Run(p.ctx, chromedp.Text(sel))
	if err != nil {
		p.t.Fatalf("read %s: %v", sel, err)
	}
	return s
}

// waitFor waits until the element's text contains want.
func (p *page) waitFor(sel, want string) string {
	p.t.Helper()
	var got string
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if got, _ = chromedp.Run(p.ctx, chromedp.Text(sel, chromedp.NodeVisible)); strings.Contains(got, want) {
			return got
		}
	}
	p.t.Fatalf("%s says %q, want %q", sel, got, want)
	return ""
}

// overflowJS lists the visible elements that reach beyond the viewport
// (the page must not scroll sideways), and the key actions that are not
// inside their card.
const overflowJS = `(() => {
  const W = document.documentElement.clientWidth;
  const out = [];
  const name = el => el.tagName.toLowerCase() + (el.id ? "#" + el.id : "") +
    (typeof el.className === "string" && el.className.trim() ? "." + el.className.trim().split(/\s+/).join(".") : "");
  if (document.documentElement.scrollWidth > W + 1) out.push("the page is " + document.documentElement.scrollWidth + " px wide in a " + W + " px viewport");
  for (const el of document.querySelectorAll("body *")) {
    const r = el.getBoundingClientRect();
    if (r.width <= 1 || r.height <= 1 || r.right < -1000) continue; // hidden, or the skip link parked off-screen
    if (getComputedStyle(el).visibility === "hidden") continue;
    if (r.right > W + 1 || r.left < -1) out.push(name(el) + " spans " + Math.round(r.left) + ".." + Math.round(r.right) + " of " + W + " px");
  }
  for (const a of document.querySelectorAll(".key-actions")) {
    const c = a.closest(".card").getBoundingClientRect(), r = a.getBoundingClientRect();
    if (r.right > c.right + 1 || r.left < c.left - 1) out.push("key actions at " + Math.round(r.left) + ".." + Math.round(r.right) + " outside their card " + Math.round(c.left) + ".." + Math.round(c.right));
  }
  return out.slice(0, 12);
})()`

// fitsHere is fits for the page already open, which cannot be loaded
// again (the secret is shown once): the viewport changes under it.
func (p *page) fitsHere(name string) {
	p.t.Helper()
	for _, w := range []int64{390, 1280} {
		p.run("set the width to "+fmt.Sprint(w), chromedp.EmulateViewport(w, 900))
		bad, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](overflowJS))
		if err != nil {
			p.t.Fatalf("layout of %s: %v", name, err)
		}
		p.shot(fmt.Sprintf("%s-%d", name, w))
		if len(bad) > 0 {
			p.t.Errorf("%s at %d px:\n  %s", name, w, strings.Join(bad, "\n  "))
		}
	}
}

// fits opens the page at 1280 and 390 px wide, takes a screenshot at each,
// and fails if anything is wider than the viewport or a key action is out
// of its card. It leaves the viewport at 1280 px.
func (p *page) fits(url, name string) {
	p.t.Helper()
	for _, w := range []int64{390, 1280} {
		p.run("set the width to "+fmt.Sprint(w), chromedp.EmulateViewport(w, 900))
		p.run("open "+url, chromedp.Navigate(url), chromedp.WaitVisible(`main`))
		bad, err := chromedp.Run(p.ctx, chromedp.Evaluate[[]string](overflowJS))
		if err != nil {
			p.t.Fatalf("layout of %s: %v", url, err)
		}
		p.shot(fmt.Sprintf("%s-%d", name, w))
		if len(bad) > 0 {
			p.t.Errorf("%s at %d px:\n  %s", url, w, strings.Join(bad, "\n  "))
		}
	}
}

// TestSandboxTrader: a new user of the sandbox signs up, reads the
// verification mail, finds test funds on the overview, verifies their
// identity, makes a trader key and places an order through the API that
// fills against the simulator, with no operator step; then sees the fill,
// the balances, adds test funds, opens a second account and transfers to
// it. Every page fits at 390 and 1280 px with nothing wider than the
// viewport and every key action inside its card.
func TestSandboxTrader(t *testing.T) {
	ctx, shot := browser(t)
	a := &app.App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Sim: true, SimSeed: 11}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	base := "http://" + a.Addr()
	p := &page{t: t, ctx: ctx, shot: shot}
	const email, pw = "grace@example.com", "correct horse battery staple"

	p.fits(base+"/", "landing")
	if landing := p.text(`main`); !strings.Contains(landing, "Last price") || !strings.Contains(landing, "10,000 USD") {
		t.Fatalf("landing page:\n%s", landing)
	}
	p.run("sign up", chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, email),
		chromedp.SendKeys(`input[name="password"]`, pw),
		chromedp.SendKeys(`input[name="confirm"]`, pw),
		chromedp.Click(`main form button[type="submit"]`))
	p.waitFor(`main h1`, "Check your email")
	p.run("open the mailbox from the page", chromedp.Click(`main a[href^="/mailbox"]`), chromedp.WaitVisible(`table a`))
	p.fits(base+"/mailbox", "mailbox")
	p.run("open the mail", chromedp.Navigate(base+"/mailbox?to="+email), chromedp.WaitVisible(`table a`), chromedp.Click(`table a`), chromedp.WaitVisible(`pre.mail a`))
	p.fitsHere("verification-mail")
	p.run("follow the link", chromedp.Click(`pre.mail a`))
	p.waitFor(`main`, "sandbox test funds")

	p.run("log in", chromedp.Navigate(base+"/login"), chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, email),
		chromedp.SendKeys(`input[name="password"]`, pw),
		chromedp.Click(`main form button[type="submit"]`),
		chromedp.WaitVisible(`nav form[action="/logout"]`))
	p.fits(base+"/", "overview")
	if o := p.text(`main`); !strings.Contains(o, "10,000.00") || !strings.Contains(o, "Your balances") {
		t.Fatalf("overview:\n%s", o)
	}
	p.run("verify identity", chromedp.Navigate(base+"/settings/identity"), chromedp.WaitVisible(`input[name="legal_name"]`),
		chromedp.SendKeys(`input[name="legal_name"]`, "Grace Hopper"),
		chromedp.SetValue(`input[name="birth_date"]`, "1980-12-09"),
		chromedp.SetValue(`select[name="country"]`, "US"),
		chromedp.SendKeys(`input[name="address"]`, "1 Navy Yard, Washington"),
		chromedp.Click(`main form button[type="submit"]`))
	p.waitFor(`main`, "Your identity is verified")

	const create = `form[action="/settings/api/keys"] `
	p.run("create a trader key", chromedp.Navigate(base+"/settings/api"), chromedp.WaitVisible(create+`input[name="label"]`),
		chromedp.SendKeys(create+`input[name="label"]`, "a long label for the market-making bot on the shared VPS"),
		chromedp.SendKeys(create+`textarea[name="allowlist"]`, "127.0.0.1\n2001:db8:1234:5678::/64\n198.51.100.0/24"),
		chromedp.SendKeys(create+`input[name="password"]`, pw),
		chromedp.Click(create+`button[type="submit"]`), chromedp.WaitVisible(`#key-secret`))
	id, err := chromedp.Run(ctx, chromedp.Value(`#key-id`))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Value(`#key-secret`))
	if err != nil {
		t.Fatal(err)
	}
	if s := p.text(`main`); !strings.Contains(s, "a long label for the market-making bot") {
		t.Fatalf("the secret page does not name the key:\n%s", s)
	}
	p.fitsHere("secret")
	p.fits(base+"/settings/api/secret/none", "secret-gone")

	// The first order of a new user fills: test funds, no operator step.
	client := gemini.New(base, id, secret, gemini.WithNonceSource(gemini.NewMillisNonce(time.Now)))
	var filled *gemini.Order
	for deadline := time.Now().Add(30 * time.Second); filled == nil && time.Now().Before(deadline); time.Sleep(300 * time.Millisecond) {
		tk, err := client.Ticker(context.Background(), "btcusd")
		if err != nil || tk.Ask == "" {
			continue // the simulator has not quoted yet
		}
		o, err := client.NewOrder(context.Background(), gemini.NewOrderRequest{Symbol: "btcusd", Side: gemini.SideBuy,
			Amount: "0.001", Price: tk.Ask, Options: []string{gemini.OptionImmediateOrCancel}})
		if err != nil {
			t.Fatalf("the first order of a new sandbox user: %v", err)
		}
		if !o.ExecutedAmount.IsZero() {
			filled = o
		}
	}
	if filled == nil {
		t.Fatal("no order filled against the simulator in 30 s")
	}
	t.Logf("order %s filled %s at %s", filled.OrderID, filled.ExecutedAmount, filled.AvgExecutionPrice)
	// A resting order to cancel from the dashboard.
	tk, err := client.Ticker(context.Background(), "btcusd")
	if err != nil {
		t.Fatal(err)
	}
	bid, err := strconv.ParseFloat(string(tk.Bid), 64)
	if err != nil {
		t.Fatalf("bid %q: %v", tk.Bid, err)
	}
	// Half the bid: it rests.
	rest, err := client.NewOrder(context.Background(), gemini.NewOrderRequest{Symbol: "btcusd", Side: gemini.SideBuy, Amount: "0.002", Price: gemini.Decimal(fmt.Sprintf("%.2f", bid/2))})
	if err != nil || !rest.IsLive {
		t.Fatalf("resting order: %+v %v", rest, err)
	}

	p.fits(base+"/orders?tab=fills", "fills")
	if f := p.text(`main`); !strings.Contains(f, "BTCUSD") || !strings.Contains(f, "#") || !strings.Contains(f, "USD") {
		t.Fatalf("fills:\n%s", f)
	}
	p.fits(base+"/orders?tab=history", "order-history")
	p.fits(base+"/orders", "open-orders")
	p.run("cancel the resting order", chromedp.Click(`button[aria-label="Cancel order `+rest.OrderID+`"]`))
	p.waitFor(`main`, "The order is cancelled")

	// An order from the dashboard's own form: it crosses the simulator's
	// ask and fills.
	tk, err = client.Ticker(context.Background(), "btcusd")
	if err != nil {
		t.Fatal(err)
	}
	ask, _ := strconv.ParseFloat(string(tk.Ask), 64)
	p.run("place an order on the dashboard", chromedp.Navigate(base+"/orders"), chromedp.WaitVisible(`form[action="/orders/new"]`),
		chromedp.SetValue(`select[name="kind"]`, "immediate-or-cancel"),
		chromedp.SendKeys(`input[name="amount"]`, "0.001"),
		chromedp.SendKeys(`input[name="price"]`, fmt.Sprintf("%.2f", ask*1.01)),
		chromedp.Click(`form[action="/orders/new"] button`))
	p.waitFor(`main`, "placed and filled")
	p.fitsHere("dashboard-order-filled")

	p.fits(base+"/balances", "balances")
	p.run("add test funds", chromedp.SetValue(`select[name="fund_currency"]`, "ETH"), chromedp.Click(`form[action="/balances/test-funds"] button`))
	p.waitFor(`main`, "Test funds added")
	if b := p.text(`main`); !strings.Contains(b, "20.000000") {
		t.Fatalf("balances after adding 10 ETH:\n%s", b)
	}
	p.run("add an account", chromedp.Navigate(base+"/settings/accounts"), chromedp.WaitVisible(`input[name="name"]`),
		chromedp.SendKeys(`input[name="name"]`, "Grid bot"), chromedp.Click(`main form button[type="submit"]`))
	p.waitFor(`main`, "The account is added")
	p.run("open the transfer form", chromedp.Navigate(base+"/balances"), chromedp.WaitVisible(`input[name="amount"]`))
	p.run("transfer too much", chromedp.SetValue(`select[name="currency"]`, "USD"), chromedp.SendKeys(`input[name="amount"]`, "1000000"),
		chromedp.Click(`form[action="/balances/transfer"] button`))
	p.waitFor(`#amount-error`, "available in primary")
	p.shot("transfer-error")
	if inv, err := chromedp.Run(ctx, chromedp.AttributeValue(`input[name="amount"]`, "aria-invalid")); err != nil || inv.Value != "true" {
		t.Fatalf("the amount's error is not tied to it: %q %v", inv.Value, err)
	}
	p.run("transfer 250 USD", chromedp.SetValue(`input[name="amount"]`, "250"), chromedp.Click(`form[action="/balances/transfer"] button`))
	p.waitFor(`main`, "The transfer is done")
	if b := p.text(`main`); !strings.Contains(b, "Grid bot") || !strings.Contains(b, "250.00") {
		t.Fatalf("balances after the transfer:\n%s", b)
	}
	p.fits(base+"/balances", "balances-two-accounts")

	// Every signed-in page fits.
	for _, x := range []struct{ path, name string }{
		{"/settings/api", "api-keys"}, {"/settings/api/keys/" + id + "/edit", "key-edit"}, {"/settings/api/keys/" + id + "/usage", "key-usage"},
		{"/settings/api/activity", "api-activity"}, {"/settings", "settings"}, {"/settings/activity", "account-activity"},
		{"/settings/accounts", "accounts"}, {"/settings/mfa", "mfa"}, {"/settings/alerts", "alerts"}, {"/settings/identity", "identity"},
	} {
		p.fits(base+x.path, x.name)
	}
	p.run("revoke the key", chromedp.Navigate(base+"/settings/api"), chromedp.WaitVisible(`a[aria-label="Edit `+id+`"]`),
		chromedp.Click(`details.revoke summary`), chromedp.WaitVisible(`button[aria-label="Revoke `+id+`"]`))
	p.shot("revoke-confirm")
	p.run("confirm the revoke", chromedp.Click(`button[aria-label="Revoke `+id+`"]`))
	p.waitFor(`main`, "The key is revoked")
	p.fits(base+"/settings/api", "api-keys-revoked")
	if o := p.text(`main`); !strings.Contains(o, "Revoked") {
		t.Fatalf("the revoked key's badge is not visible:\n%s", o)
	}
	p.run("open the overview", chromedp.Navigate(base+"/"), chromedp.WaitVisible(`main`))
	if o := p.text(`main`); strings.Contains(o, "You are ready to use the API") || !strings.Contains(o, "One step left") {
		t.Fatalf("overview after the only key was revoked:\n%s", o)
	}
}

// TestMailboxRule: the sandbox mailbox holds sign-in links, so a client
// from another machine sees none of it while signed out and only its own
// mail once signed in; this machine sees all of it.
func TestMailboxRule(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	a := &app.App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), TrustedProxies: "127.0.0.1/32"}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	base := "http://" + a.Addr()
	get := func(c *http.Client, path string) int {
		t.Helper()
		resp, err := c.Get(base + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	remote := &http.Client{Transport: forwardedFor("203.0.113.9")}
	if got := get(remote, "/mailbox"); got != http.StatusForbidden {
		t.Fatalf("the mailbox from another machine: %d, want 403", got)
	}
	if got := get(remote, "/mailbox/1"); got != http.StatusForbidden {
		t.Fatalf("a message from another machine: %d, want 403", got)
	}
	if got := get(http.DefaultClient, "/mailbox"); got != http.StatusOK {
		t.Fatalf("the mailbox from this machine: %d, want 200", got)
	}
}

// contrastJS is the contrast ratio (WCAG) of an element's text and
// background colours, and whether the page is in dark mode.
const contrastJS = `((sel) => {
  const cs = getComputedStyle(document.querySelector(sel));
  const rgb = c => c.match(/[\d.]+/g).slice(0, 3).map(Number);
  const lum = ([r, g, b]) => { const f = v => { v /= 255; return v <= 0.03928 ? v / 12.92 : Math.pow((v + 0.055) / 1.055, 2.4); };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b); };
  const a = lum(rgb(cs.color)), b = lum(rgb(cs.backgroundColor));
  return [matchMedia("(prefers-color-scheme: dark)").matches ? 1 : 0, (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05)];
})`

// TestDarkModeMail: a mail in the sandbox mailbox is readable in dark mode
// (it was light text on a light background, 1.1:1).
func TestDarkModeMail(t *testing.T) {
	ctx, shot := browser(t, chromedp.Flag("force-dark-mode", true), chromedp.Flag("enable-features", "WebContentsForceDark:enabled=false"))
	a := &app.App{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	base := "http://" + a.Addr()
	p := &page{t: t, ctx: ctx, shot: shot}
	p.run("sign up", chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, "night@example.com"),
		chromedp.SendKeys(`input[name="password"]`, "correct horse battery staple"),
		chromedp.SendKeys(`input[name="confirm"]`, "correct horse battery staple"),
		chromedp.Click(`main form button[type="submit"]`))
	p.waitFor(`main h1`, "Check your email")
	p.run("open the mail", chromedp.Navigate(base+"/mailbox"), chromedp.WaitVisible(`table a`), chromedp.Click(`table a`), chromedp.WaitVisible(`pre.mail`))
	shot("dark-mail")
	for _, sel := range []string{"pre.mail", "main .card", "body"} {
		got, err := chromedp.Run(ctx, chromedp.Evaluate[[]float64](contrastJS+"("+strconv.Quote(sel)+")"))
		if err != nil {
			t.Fatal(err)
		}
		if got[0] != 1 {
			t.Skip("this Chromium does not honour --force-dark-mode")
		}
		if got[1] < 4.5 {
			t.Errorf("%s in dark mode: contrast %.2f:1, want at least 4.5:1", sel, got[1])
		}
	}
}
