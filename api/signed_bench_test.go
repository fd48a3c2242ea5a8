package api

import (
	"encoding/base64"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/twinex/twinex/auth"
)

// BenchmarkSignedOrderCancel places a signed order and cancels it, through
// the whole handler (authentication, nonce, quota, the sequencer and its
// durable commit, the reply) without the network: the server's own cost of
// the request path. Compare allocs/op across changes; the time includes
// the SQLite commit of each batch of one.
func BenchmarkSignedOrderCancel(b *testing.B) {
	ts := privateServer(b)
	k := newKey(b, ts, "bench@example.com", `{"roles":"trader"}`, "USD", "1000000")
	h := ts.Config.Handler
	nonce := int64(1_000_000)
	do := func(path, body string) string {
		nonce++
		payload := fmt.Sprintf(`{"request":%q,"nonce":%d,%s}`, path, nonce, body)
		b64 := base64.StdEncoding.EncodeToString([]byte(payload))
		r := httptest.NewRequest(http.MethodPost, path, nil)
		r.Header.Set("X-GEMINI-APIKEY", k.Key)
		r.Header.Set("X-GEMINI-PAYLOAD", b64)
		r.Header.Set("X-GEMINI-SIGNATURE", auth.Sign(k.Secret, b64))
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		if w.Code != http.StatusOK {
			b.Fatalf("%s: %d %s", path, w.Code, w.Body)
		}
		return w.Body.String()
	}
	b.ReportAllocs()
	b.ResetTimer()
	for range b.N {
		reply := do("/v1/order/new", `"symbol":"btcusd","amount":"0.0001","price":"1000.00","side":"buy","type":"exchange limit"`)
		_, after, _ := strings.Cut(reply, `"order_id":"`)
		id, _, _ := strings.Cut(after, `"`)
		do("/v1/order/cancel", `"order_id":`+id)
	}
}
