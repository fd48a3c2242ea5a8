// Package e2e drives the dashboard in a real browser: Debian's Chromium,
// through chromedp. The tests skip when Chromium is not installed (CI
// installs it); screenshots of each step go to $TWINEX_E2E_SHOTS, or to the
// test's temporary directory.
package e2e

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/twinex/twinex/app"
)

// browser starts a headless Chromium for the test, or skips.
func browser(t *testing.T) (context.Context, func(name string)) {
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

func twoDigits(n int) string { return string([]byte{byte('0' + n/10), byte('0' + n%10)}) }

// TestSignUpVerifyAndLogIn: a new user signs up, opens the verification
// mail in the sandbox mailbox, verifies, logs in and sees the address
// verified on the settings page.
func TestSignUpVerifyAndLogIn(t *testing.T) {
	ctx, shot := browser(t)
	a := &app.App{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
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
	run("open sign-up", chromedp.Navigate(base+"/signup"), chromedp.WaitVisible(`input[name="email"]`))
	shot("signup")
	run("sign up",
		chromedp.SendKeys(`input[name="email"]`, email),
		chromedp.SendKeys(`input[name="password"]`, pw),
		chromedp.SendKeys(`input[name="confirm"]`, pw),
		chromedp.Click(`form button[type="submit"]`),
		chromedp.WaitVisible(`main h1`),
	)
	heading := text(`main h1`)
	if !strings.Contains(heading, "Check your email") {
		t.Fatalf("after sign-up the page says %q", heading)
	}
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
		chromedp.Click(`form button[type="submit"]`),
		chromedp.WaitVisible(`nav form[action="/logout"]`),
	)
	run("open settings", chromedp.Navigate(base+"/settings"), chromedp.WaitVisible(`main`))
	settings := text(`main`)
	shot("settings")
	if !strings.Contains(settings, email) || !strings.Contains(settings, "Verified") {
		t.Fatalf("settings after verifying and logging in:\n%s", settings)
	}
}
