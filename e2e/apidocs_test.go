package e2e

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"github.com/twinex/twinex/app"
)

// TestAPIReferenceFits: the API reference at /docs/api, reached from the
// footer link, shows every group and never scrolls sideways, on a phone
// (390 px) and on a desktop (1280 px).
func TestAPIReferenceFits(t *testing.T) {
	ctx, _ := browser(t) // the page is too long for a full screenshot: views of it instead
	a := &app.App{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	base := "http://" + a.Addr()
	for _, width := range []int64{390, 1280} {
		if err := chromedp.Do(ctx,
			chromedp.EmulateViewport(width, 900),
			chromedp.Navigate(base+"/login"),
			chromedp.WaitVisible(`footer a[href="/docs/api"]`),
			chromedp.Click(`footer a[href="/docs/api"]`),
			chromedp.WaitVisible(`#shapes`),
		); err != nil {
			t.Fatalf("%d px: open the reference: %v", width, err)
		}
		over, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.documentElement.scrollWidth - document.documentElement.clientWidth`))
		if err != nil {
			t.Fatal(err)
		}
		if over > 0 {
			wide, _ := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('main *')].filter(e => e.getBoundingClientRect().right > document.documentElement.clientWidth + 1).slice(0, 5).map(e => e.tagName + '.' + e.className + ': ' + e.textContent.slice(0, 60))`))
			t.Errorf("%d px: the page scrolls sideways by %d px; widest: %q", width, over, wide)
		}
		groups, err := chromedp.Run(ctx, chromedp.Evaluate[int64](`document.querySelectorAll('section.apiref-group').length`))
		if err != nil {
			t.Fatal(err)
		}
		if groups < 9 {
			t.Errorf("%d px: %d groups shown", width, groups)
		}
		for _, at := range []string{"", "#signing", "#errors", "#op-orderNew", "#schema-Transactions"} {
			if at != "" {
				if err := chromedp.Do(ctx, chromedp.Navigate(base+"/docs/api"+at), chromedp.WaitVisible(at)); err != nil {
					t.Fatal(err)
				}
			}
			viewShot(t, ctx, fmt.Sprintf("docs-api-%d%s", width, strings.ReplaceAll(at, "#", "-")))
		}
	}
}

// viewShot saves what the viewport shows to $TWINEX_E2E_SHOTS, if set.
func viewShot(t *testing.T, ctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("TWINEX_E2E_SHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	if err := os.WriteFile(filepath.Join(dir, name+".png"), png, 0o644); err != nil {
		t.Fatal(err)
	}
}
