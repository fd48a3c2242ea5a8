package app

import (
	"net/http"
	"net/http/httptest"
	"testing"
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
