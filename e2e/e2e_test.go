// Package e2e drives the dashboard in a real browser: Debian's Chromium,
// through chromedp. The tests skip when Chromium is not installed (CI
// installs it); screenshots of each step go to $TWINEX_E2E_SHOTS, or to the
// test's temporary directory.
package e2e

import (
	"context"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pquerna/otp/totp"

	"github.com/twinex/twinex/app"
	"github.com/twinex/twinex/gemini"
)

// browser starts a headless Chromium for the test, or skips.
func browser(t *testing.T, extra ...chromedp.ExecAllocatorOption) (context.Context, func(name string)) {
	t.Helper()
	if testing.Short() {
		t.Skip("starts a browser")
	}
	exe, err := exec.LookPath("chromium")
	if err != nil {
		t.Skip("chromium is not installed (apt-get install chromium); .ci/run installs it")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.NoSandbox, // CI runs as root
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1200, 900),
	)
	opts = append(opts, extra...)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelCtx := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, 2*time.Minute)
	t.Cleanup(func() { cancelTimeout(); cancelCtx(); cancelAlloc() })
	dir := os.Getenv("TWINEX_E2E_SHOTS")
	if dir == "" {
		dir = t.TempDir()
	} else if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	step := 0
	shot := func(name string) {
		t.Helper()
		step++
		png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
		if err != nil {
			t.Fatalf("screenshot %s: %v", name, err)
		}
		path := filepath.Join(dir, strings.ReplaceAll(t.Name(), "/", "_")+"-"+twoDigits(step)+"-"+name+".png")
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot %s", path)
	}
	return ctx, shot
}

// forwardedFor sends requests as a trusted proxy on loopback would for a
// client at another address.
type forwardedFor string

func (f forwardedFor) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("X-Forwarded-For", string(f))
	return http.DefaultTransport.RoundTrip(r)
}

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// TestNewUserToSignedRequest: a new user signs up, opens the verification
// mail in the sandbox mailbox, verifies, logs in, verifies their identity,
// turns on two-factor authentication, creates an API key limited to
// 127.0.0.1 (with a code), signs a request with the secret the page showed
// once, uses it from a new address and from outside its allowlist, finds
// the refused request on the activity page, the new-address alert in the
// banner and on the alerts page, and the key's usage chart, revokes the key
// from its alert (with a recovery code) and sees the next request refused,
// then logs in again with the second factor.
func TestNewUserToSignedRequest(t *testing.T) {
	ctx, shot := browser(t)
	// The test plays a proxy on loopback to make requests from other
	// addresses.
	a := &app.App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), TrustedProxies: "127.0.0.1/32"}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	base := "http://" + a.Addr()
	const email, pw = "ada@example.com", "correct horse battery staple"

	run := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(ctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Text(sel))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return s
	}
	// waitFor waits until the element's text contains want: a click that
	// submits a form returns before the next page has loaded.
	reload := func(url string) string {
		t.Helper()
		run("open "+url, chromedp.Navigate(url), chromedp.WaitVisible(`main`))
		return text(`main`)
	}
	waitFor := func(sel, want string) string {
		t.Helper()
		var got string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			if got, _ = chromedp.Run(ctx, chromedp.Text(sel, chromedp.NodeVisible)); strings.Contains(got, want) {
				return got
			}
		}
		t.Fatalf("%s says %q, want %q", sel, got, want)
		return ""
	}
	run("open sign-up", chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(`input[name="email"]`))
	shot("signup")
	run("sign up",
		chromedp.SendKeys(`input[name="email"]`, email),
		chromedp.SendKeys(`input[name="password"]`, pw),
		chromedp.SendKeys(`input[name="confirm"]`, pw),
		chromedp.Click(`main form button[type="submit"]`),
	)
	waitFor(`main h1`, "Check your email")
	shot("check-email")

	run("open the mailbox", chromedp.Navigate(base+"/mailbox?to="+email), chromedp.WaitVisible(`table a`))
	shot("mailbox")
	run("open the mail", chromedp.Click(`table a`), chromedp.WaitVisible(`pre.mail a`))
	shot("verification-mail")
	run("follow the link", chromedp.Click(`pre.mail a`), chromedp.WaitVisible(`main h1`))
	shot("verified")

	run("log in",
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible(`input[name="email"]`),
		chromedp.SendKeys(`input[name="email"]`, email),
		chromedp.SendKeys(`input[name="password"]`, pw),
		chromedp.Click(`main form button[type="submit"]`),
		chromedp.WaitVisible(`nav form[action="/logout"]`),
	)
	run("open settings", chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(`main`))
	settings := text(`main`)
	shot("settings")
	if !strings.Contains(settings, email) || !strings.Contains(settings, "Verified") {
		t.Fatalf("settings after verifying and logging in:\n%s", settings)
	}

	run("open the identity form", chromedp.Click(`a[href="/settings/identity"]`), chromedp.WaitVisible(`input[name="legal_name"]`))
	run("fill in the identity form",
		chromedp.SendKeys(`input[name="legal_name"]`, "Ada Lovelace"),
		chromedp.SetValue(`input[name="birth_date"]`, "1990-12-10"),
		chromedp.SetValue(`select[name="country"]`, "GB"),
		chromedp.SendKeys(`input[name="address"]`, "12 St James's Square, London"),
	)
	shot("identity")
	run("submit the identity form", chromedp.Click(`main form button[type="submit"]`))
	waitFor(`main`, "Your identity is verified")
	shot("api-keys-empty")

	// Two-factor authentication, with the key shown beside the QR code.
	run("open two-factor settings", chromedp.Navigate(base+"/settings/mfa"), chromedp.WaitVisible(`#mfa-secret`))
	shot("mfa-enrol")
	// The key is shown in groups of four; apps ignore the spaces.
	mfaSecret := strings.ReplaceAll(text(`#mfa-secret`), " ", "")
	totpCode := func(at time.Time) string {
		t.Helper()
		c, err := totp.GenerateCode(mfaSecret, at)
		if err != nil {
			t.Fatal(err)
		}
		return c
	}
	run("confirm the code", chromedp.SendKeys(`input[name="code"]`, totpCode(time.Now())), chromedp.Click(`main form button[type="submit"]`))
	waitFor(`main`, "Save your recovery codes now")
	shot("recovery-codes")
	recovery1, recovery2 := text(`ul.codes li:nth-child(1)`), text(`ul.codes li:nth-child(2)`)

	const create = `form[action="/settings/api/keys"] `
	run("open the API keys", chromedp.Navigate(base+"/settings/api"), chromedp.WaitVisible(create+`input[name="label"]`))
	// Enter in the Label field submits the form before the password is
	// typed. That is not a wrong password: six of them lock nothing (five
	// wrong passwords would lock the login for 15 minutes).
	run("type a label", chromedp.SendKeys(create+`input[name="label"]`, "e2e bot"))
	for i := 0; i < 6; i++ {
		// Mark this document, press Enter in the focused Label field, and
		// wait for the next document's answer.
		if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.body.dataset.before = "1", true`)); err != nil {
			t.Fatal(err)
		}
		run("press Enter in the Label field", chromedp.Focus(create+`input[name="label"]`), chromedp.KeyEvent("\r"))
		for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(50 * time.Millisecond) {
			fresh, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.body.dataset.before && !!document.querySelector("#password-error")`))
			if fresh {
				break
			}
			if time.Now().After(deadline) {
				t.Fatal("no answer to Enter in the Label field")
			}
		}
		waitFor(`#password-error`, "Enter your password to confirm")
	}
	if got, err := chromedp.Run(ctx, chromedp.Value(create+`input[name="label"]`)); err != nil || got != "e2e bot" {
		t.Fatalf("label after Enter: %q, %v", got, err)
	}
	shot("enter-in-label")
	run("create a key",
		chromedp.SendKeys(create+`textarea[name="allowlist"]`, "127.0.0.1\n198.51.100.0/24"),
		chromedp.SendKeys(create+`input[name="password"]`, pw),
		// The enrolment used this step's code; the next step's is fresh.
		chromedp.SendKeys(create+`input[name="code"]`, totpCode(time.Now().Add(30*time.Second))),
	)
	shot("create-key")
	run("submit the key form", chromedp.Click(create+`button[type="submit"]`), chromedp.WaitVisible(`#key-secret`))
	shot("secret")
	id, err := chromedp.Run(ctx, chromedp.Value(`#key-id`))
	if err != nil {
		t.Fatal(err)
	}
	secret, err := chromedp.Run(ctx, chromedp.Value(`#key-secret`))
	if err != nil {
		t.Fatal(err)
	}
	// One nonce source for every client of the key below: two sources
	// could hand out the same millisecond.
	nonces := gemini.WithNonceSource(gemini.NewMillisNonce(time.Now))
	client := gemini.New(base, id, secret, nonces)
	if _, err := client.Balances(context.Background()); err != nil {
		t.Fatalf("request signed with the new key: %v", err)
	}
	// Reloading the page does not show the secret again.
	run("reload the secret page", chromedp.Reload())
	waitFor(`main h1`, "This secret was shown already")

	run("back to the keys", chromedp.Navigate(base+"/settings/api"), chromedp.WaitVisible(`a[aria-label="Edit `+id+`"]`))
	if list := text(`main`); strings.Contains(list, secret) || !strings.Contains(list, "127.0.0.1") || !strings.Contains(list, "e2e bot") {
		t.Fatalf("key list:\n%s", list)
	}
	shot("key-list")
	if settings := reload(base + "/settings"); strings.Contains(settings, "Wrong password") {
		t.Fatalf("Enter in the Label field counted as a wrong password:\n%s", settings)
	}

	// The key is used from an address in its allowlist it never used
	// before, then from one outside it, then with a wrong secret.
	via := func(ip, sec string) error {
		c := gemini.New(base, id, sec, nonces, gemini.WithHTTPClient(&http.Client{Transport: forwardedFor(ip)}))
		_, err := c.Balances(context.Background())
		return err
	}
	if err := via("198.51.100.20", secret); err != nil {
		t.Fatalf("request from a new allowed address: %v", err)
	}
	if err := via("203.0.113.5", secret); !gemini.IsReason(err, "RemoteAddressForbidden") {
		t.Fatalf("request from outside the allowlist: %v", err)
	}
	if err := via("127.0.0.1", "twxs_wrong"); !gemini.IsReason(err, "InvalidSignature") {
		t.Fatalf("request with a wrong secret: %v", err)
	}
	// reloadUntil reloads a page until its main text contains want: the
	// activity log is written in batches, a moment after the requests.
	reloadUntil := func(url, want string) string {
		t.Helper()
		var got string
		for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
			run("open "+url, chromedp.Navigate(url), chromedp.WaitVisible(`main`))
			if got = text(`main`); strings.Contains(got, want) {
				return got
			}
		}
		t.Fatalf("%s says %q, want %q", url, got, want)
		return ""
	}
	log := reloadUntil(base+"/settings/api/activity", "203.0.113.5")
	for _, want := range []string{"RemoteAddressForbidden 403", "InvalidSignature 400", "198.51.100.20", "POST /v1/balances"} {
		if !strings.Contains(log, want) {
			t.Fatalf("activity page lacks %q:\n%s", want, log)
		}
	}
	shot("api-activity")
	banner := reloadUntil(base+"/settings", "API key used from a new address")
	if !strings.Contains(banner, "198.51.100.20") {
		t.Fatalf("banner:\n%s", banner)
	}
	shot("alert-banner")
	run("open the usage page", chromedp.Navigate(base+"/settings/api/keys/"+id+"/usage"), chromedp.WaitVisible(`.chart svg`))
	if usage := text(`main`); !strings.Contains(usage, "of 100,000 requests today") {
		t.Fatalf("usage page:\n%s", usage)
	}
	shot("key-usage")
	run("open the alerts", chromedp.Click(`.alert-banner a[href="/settings/alerts"]`), chromedp.WaitVisible(`li.alert-new_ip`))
	alerts := text(`main`)
	for _, want := range []string{"Request blocked by an IP allowlist", "203.0.113.5", "198.51.100.20"} {
		if !strings.Contains(alerts, want) {
			t.Fatalf("alerts page lacks %q:\n%s", want, alerts)
		}
	}
	shot("alerts")
	run("revoke the key from its alert with a recovery code",
		chromedp.SendKeys(`li.alert-new_ip input[name="code"]`, recovery1),
		chromedp.Click(`li.alert-new_ip button.button-danger`))
	waitFor(`main`, "The key is revoked")
	shot("revoked")
	if _, err := client.Balances(context.Background()); err == nil {
		t.Fatal("the revoked key still works")
	} else {
		t.Logf("revoked key refused: %v", err)
	}

	run("log out", chromedp.Click(`nav form[action="/logout"] button`))
	waitFor(`main`, "You have logged out")
	run("log in with the password",
		chromedp.SendKeys(`input[name="email"]`, email),
		chromedp.SendKeys(`input[name="password"]`, pw),
		chromedp.Click(`main form button[type="submit"]`),
	)
	waitFor(`main h1`, "Two-factor authentication")
	shot("mfa-login")
	run("enter a recovery code", chromedp.SendKeys(`input[name="code"]`, recovery2), chromedp.Click(`main form[action="/login/mfa"] button[type="submit"]`))
	run("signed in", chromedp.WaitVisible(`nav form[action="/logout"]`))
	waitFor(`main`, "Overview")
}
