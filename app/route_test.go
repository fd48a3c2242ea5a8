package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRouteSendsRootUpgradesToTheAPI: a WebSocket handshake at "/" goes to
// the API (which refuses it in JSON), a plain GET / to the dashboard.
func TestRouteSendsRootUpgradesToTheAPI(t *testing.T) {
	var got string
	h := route(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "api" }),
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "dashboard" }))
	for _, c := range []struct {
		upgrade, want string
	}{{"websocket", "api"}, {"", "dashboard"}} {
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

// TestRouteSendsTheAPIDescriptionToTheAPI: /openapi.json is the API's, the
// rendered reference at /docs/api the dashboard's.
func TestRouteSendsTheAPIDescriptionToTheAPI(t *testing.T) {
	var got string
	h := route(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "api" }),
		http.HandlerFunc(func(http.ResponseWriter, *http.Request) { got = "dashboard" }))
	for path, want := range map[string]string{"/openapi.json": "api", "/docs/api": "dashboard"} {
		h.ServeHTTP(httptest.NewRecorder(), httptest.NewRequest("GET", path, nil))
		if got != want {
			t.Errorf("GET %s went to the %s, want the %s", path, got, want)
		}
	}
}
