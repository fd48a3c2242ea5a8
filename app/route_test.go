package app

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twinex/twinex/openapi"
)

// TestRouteSendsRootUpgradesToTheAPI: an upgrade at "/" goes to the API
// (the newer WebSocket API, or a JSON refusal), a plain GET / to the
// dashboard.
func TestRouteSendsRootUpgradesToTheAPI(t *testing.T) {
	var got string
	h := route(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "api" }),
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "dashboard" }))
	for _, c := range []struct {
		upgrade, want string
	}{{"websocket", "api"}, {"h2c", "api"}, {"", "dashboard"}} {
		r := httptest.NewRequest("GET", "/", nil)
		if c.upgrade != "" {
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", c.upgrade)
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != c.want {
			t.Errorf("GET / with Upgrade %q went to the %s, want the %s", c.upgrade, got, c.want)
		}
	}
}

// TestRouteSendsEveryDocumentedPathToTheAPI: every path of the API's
// OpenAPI document, /openapi.json included, reaches the API; the rendered
// reference at /docs/api is the dashboard's.
func TestRouteSendsEveryDocumentedPathToTheAPI(t *testing.T) {
	var got string
	h := route(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "api" }),
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "dashboard" }))
	d, err := openapi.Parse()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"/docs/api": "dashboard"}
	for _, e := range d.Endpoints("") {
		want[strings.NewReplacer("{", "", "}", "").Replace(e.Path)] = "api"
	}
	if want["/openapi.json"] != "api" {
		t.Error("the document does not list /openapi.json")
	}
	for path, w := range want {
		r := httptest.NewRequest("GET", path, nil)
		if path == "/" { // documented as the newer WebSocket API: an upgrade
			r.Header.Set("Connection", "Upgrade")
			r.Header.Set("Upgrade", "websocket")
		}
		h.ServeHTTP(httptest.NewRecorder(), r)
		if got != w {
			t.Errorf("GET %s went to the %s, want the %s", path, got, w)
		}
	}
}
