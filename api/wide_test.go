package api

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/twinex/twinex/engine"
)

// Balances are wide: one account holds more than $10^12 (an int64 of USD
// ledger units is $922M), and the API shows such balances exactly, as
// Gemini's decimal strings. A single deposit past an int64 is refused with
// a message that names the limit.
func TestWideBalancesOverTheAPI(t *testing.T) {
	ts := privateServer(t)
	k := newKey(t, ts, "whale@example.com", `{"roles":"trader"}`)
	s := serverOf(t, ts)
	const acct = 100 // the first account of the server

	// 1,100 deposits of the largest single amount, concurrently so that
	// the group commit batches them.
	var wg sync.WaitGroup
	errs := make(chan error, 1100)
	for g := 0; g < 10; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 110; i++ {
				_, err := s.Core.Do(context.Background(), engine.Command{Kind: engine.DepositFunds, AccountID: acct, Currency: "USD", Funds: 1<<63 - 1, Method: "test"})
				if err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}

	const whole = "1014570924054.02533877" // 1,100 * 922337203.6854775807
	bal := func() map[string]any {
		t.Helper()
		for _, b := range signedList(t, ts, "/v1/balances", k, "") {
			if b["currency"] == "USD" {
				return b
			}
		}
		t.Fatal("no USD balance")
		return nil
	}
	if b := bal(); b["amount"] != whole || b["available"] != whole || b["availableForWithdrawal"] != whole {
		t.Fatalf("balance %v, want %s", b, whole)
	}

	// One order holds $450M plus its fee reserve; what is left shows exactly.
	if st, v := signedObject(t, ts, "/v1/order/new", k, `"symbol":"btcusd","amount":"9000","price":"50000","side":"buy","type":"exchange limit"`); st != 200 || v["is_live"] != true {
		t.Fatalf("order: %d %v", st, v)
	}
	// 450,000,000 + 35 bps taker fee reserve = 451,575,000.
	if b := bal(); b["amount"] != whole || b["available"] != "1014119349054.02533877" {
		t.Fatalf("balance after the order %v", b)
	}
	_, v := call(t, ts, "GET", "/admin/v1/verify", "")
	if v["ok"] != true {
		t.Fatalf("verify: %v", v)
	}
	if sup, _ := v["supply"].(map[string]any); sup == nil || sup["USD"] != whole {
		t.Fatalf("supply in verify: %v", v["supply"])
	}

	// A single deposit is an int64 of ledger units: past it, the refusal
	// names the limit.
	st, v := call(t, ts, "POST", "/admin/v1/fund", `{"account_id":100,"currency":"USD","amount":"922337203.6854775808"}`)
	if st != 400 || v["reason"] != "InvalidQuantity" || !strings.Contains(v["message"].(string), "a single deposit can be at most 922337203.6854775807 USD") {
		t.Fatalf("deposit past the single limit: %d %v", st, v)
	}
	// One order's value too.
	st, data := signedRaw(t, ts, "/v1/order/new", k, `"symbol":"btcusd","amount":"10000","price":"50000","side":"buy","type":"exchange limit"`)
	if st != 400 || !strings.Contains(string(data), `"reason":"InvalidQuantity"`) || !strings.Contains(string(data), "one order can be worth at most 461168601.8427387904 USD") {
		t.Fatalf("order past the value limit: %d %s", st, data)
	}
}
