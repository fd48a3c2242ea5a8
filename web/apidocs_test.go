package web_test

import (
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/twinex/twinex/openapi"
)

// TestAPIReference: /docs/api renders every operation of the embedded
// OpenAPI document, with the signing scheme and the error reasons, for
// anyone, without scripts or resources from elsewhere; the footer and the
// API keys page link to it.
func TestAPIReference(t *testing.T) {
	e := newEnv(t)
	p := e.browser("192.0.2.1").get("/docs/api")
	wantStatus(t, p, http.StatusOK)
	d, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	for _, ep := range d.Endpoints("") {
		if !strings.Contains(p.Body, `id="op-`+ep.OperationID+`"`) || !strings.Contains(p.Body, ">"+ep.Path+"</code>") {
			t.Errorf("the page lacks %s %s", ep.Method, ep.Path)
		}
	}
	wantBody(t, p, "X-GEMINI-APIKEY", "X-GEMINI-PAYLOAD", "X-GEMINI-SIGNATURE", "HMAC-SHA384",
		"<code>InsufficientFunds</code>", "<code>MissingRole</code>", `id="schema-Order"`, `href="#schema-Order"`,
		"Twinex's choice", `<code>client_order_id</code>`, `href="/openapi.json"`)
	if strings.Contains(p.Body, "<script") {
		t.Error("the page has a script")
	}
	if m := regexp.MustCompile(`(?:src|href)="(?:https?:)?//`).FindString(p.Body); m != "" {
		t.Errorf("the page loads something from elsewhere: %s", m)
	}
	// Every in-page link has its target.
	for _, m := range regexp.MustCompile(`href="#([^"]+)"`).FindAllStringSubmatch(p.Body, -1) {
		if !strings.Contains(p.Body, `id="`+m[1]+`"`) {
			t.Errorf("link to #%s has no target", m[1])
		}
	}
	home := e.browser("192.0.2.2").get("/login")
	wantBody(t, home, `<a href="/docs/api">API reference</a>`)
}
