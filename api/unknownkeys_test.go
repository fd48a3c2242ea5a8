package api

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

// TestUnknownKeysLimitedPerAddress: requests naming keys that do not exist
// are logged up to the per-address limit; past it they are refused without
// a look-up or a log record, and counted. A loaded key still works from
// that address, and other addresses are not affected.
func TestUnknownKeysLimitedPerAddress(t *testing.T) {
	ts := privateServer(t)
	s := serverOf(t, ts)
	rec := &captured{}
	s.Activity = rec
	known := newKey(t, ts, "known@example.com", `{"roles":"auditor"}`)
	signedList(t, ts, "/v1/balances", known, "") // loads the key
	send := func(keyID string) int {
		req, _ := http.NewRequest("POST", ts.URL+"/v1/balances", nil)
		signHeaders(req, testKey{Key: keyID, Secret: "x"}, fmt.Sprintf(`{"request":"/v1/balances","nonce":%d}`, time.Now().UnixNano()))
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	const n = 3 * UnknownKeysPerMinute
	for i := range n {
		if st := send(fmt.Sprintf("account-%020d", i)); st != 400 {
			t.Fatalf("unknown key %d: %d", i, st)
		}
	}
	rec.mu.Lock()
	logged := 0
	for _, a := range rec.recs {
		if a.UserID == 0 && a.Reason == twinex.InvalidSignature {
			logged++
		}
	}
	rec.mu.Unlock()
	if logged != UnknownKeysPerMinute {
		t.Fatalf("%d requests naming unknown keys were logged, want %d", logged, UnknownKeysPerMinute)
	}
	if got := s.DroppedUnknownKeys(); got != n-UnknownKeysPerMinute {
		t.Fatalf("dropped %d, want %d", got, n-UnknownKeysPerMinute)
	}
	signedList(t, ts, "/v1/balances", known, "") // a loaded key still works from the limited address
	// So does a key never used before (not loaded): it exists.
	fresh := newKey(t, ts, "fresh@example.com", `{"roles":"auditor"}`)
	signedList(t, ts, "/v1/balances", fresh, "")
	// An id that cannot be a key (a 50 KB header) is neither looked up nor
	// remembered.
	if st := send(strings.Repeat("k", 50<<10)); st != 400 {
		t.Fatalf("huge key id: %d", st)
	}
}
