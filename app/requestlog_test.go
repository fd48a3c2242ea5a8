package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
)

// lockedBuffer is a log destination safe for the server's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestRequestIDsAndFailedRequestsLogged: every answer carries a request
// id; a 5xx answer is logged once, with that id; /readyz says ready.
func TestRequestIDsAndFailedRequestsLogged(t *testing.T) {
	var logs lockedBuffer
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Logger: slog.New(slog.NewJSONHandler(&logs, nil))}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	get := func(path string) *http.Response {
		resp, err := http.Get("http://" + a.Addr() + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp
	}
	if resp := get("/readyz"); resp.StatusCode != 200 || len(resp.Header.Get("X-Request-Id")) != 24 {
		t.Fatalf("readyz: %d, request id %q", resp.StatusCode, resp.Header.Get("X-Request-Id"))
	}
	if st, v := admin(t, a, "POST", "/admin/v1/faults", `{"error":"Maintenance","count":1,"public":true}`); st != 200 {
		t.Fatalf("fault: %d %v", st, v)
	}
	resp := get("/v1/pubticker/btcusd")
	id := resp.Header.Get("X-Request-Id")
	if resp.StatusCode != 503 || id == "" {
		t.Fatalf("faulted request: %d %q", resp.StatusCode, id)
	}
	n := 0
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, id) {
			continue
		}
		n++
		var rec map[string]any
		json.Unmarshal([]byte(line), &rec)
		if rec["msg"] != "request failed" || rec["status"] != float64(503) || rec["path"] != "/v1/pubticker/btcusd" || rec["err"] == nil {
			t.Errorf("log line %s", line)
		}
	}
	if n != 1 {
		t.Fatalf("the 503 was logged %d times, want once:\n%s", n, logs.String())
	}
}
