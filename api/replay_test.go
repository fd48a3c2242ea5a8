package api

import (
	"fmt"
	"testing"
	"time"

	"github.com/twinex/twinex"
)

// TestTimeNonceRetryAfterARefusal: a time-nonce write refused before it
// could apply anything (here an injected Maintenance) may be sent again as
// it was; once applied, the same request is refused. A time-nonce key may
// repeat a read of its approved addresses (a read under a write pattern).
func TestTimeNonceRetryAfterARefusal(t *testing.T) {
	ts, _ := faultServer(t)
	k := newKey(t, ts, "retry@example.com", `{"roles":"trader,fundmanager","time_nonce":true}`)
	if st, v := call(t, ts, "POST", "/admin/v1/fund", `{"email":"retry@example.com","currency":"USD","amount":"1000"}`); st != 200 {
		t.Fatalf("fund: %d %v", st, v)
	}
	payload := fmt.Sprintf(`{"request":"/v1/order/new","nonce":%d,"symbol":"btcusd","amount":"0.01","price":"100","side":"buy","type":"exchange limit"}`, time.Now().Unix())
	addFault(t, ts, `{"key":"`+k.Key+`","error":"Maintenance","count":1}`)
	if st, v := rawSigned(t, ts, "/v1/order/new", k, payload, nil); st != 503 {
		t.Fatalf("faulted order: %d %v", st, v)
	}
	if st, v := rawSigned(t, ts, "/v1/order/new", k, payload, nil); st != 200 {
		t.Fatalf("the same order after the fault: %d %v", st, v)
	}
	if st, v := rawSigned(t, ts, "/v1/order/new", k, payload, nil); st != 400 || v["reason"] != twinex.InvalidNonce {
		t.Fatalf("the same order once applied: %d %v", st, v)
	}
	list := fmt.Sprintf(`{"request":"/v1/approvedAddresses/account/bitcoin","nonce":%d}`, time.Now().Unix())
	for i := range 2 {
		if st, v := rawSigned(t, ts, "/v1/approvedAddresses/account/bitcoin", k, list, nil); st != 200 {
			t.Fatalf("approved-address list, send %d: %d %v", i+1, st, v)
		}
	}
}
