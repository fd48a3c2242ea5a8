package gemini_test

import (
	"context"
	"fmt"
	"log"
	"net/http"
	"net/http/httptest"
	"os"
	"time"

	"github.com/twinex/twinex/gemini"
)

// The package example runs against a stand-in server; point the client at
// gemini.SandboxURL, gemini.ProductionURL or a Twinex address instead.
func Example() {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/v1/pubticker/btcusd":
			fmt.Fprint(w, `{"bid":"9345.70","ask":"9347.67","last":"9346.20","volume":{"BTC":"1920.6","USD":"17966474.43","timestamp":1483018200000}}`)
		case "/v1/order/new":
			w.WriteHeader(http.StatusNotAcceptable)
			fmt.Fprint(w, `{"result":"error","reason":"InsufficientFunds","message":"Insufficient funds"}`)
		}
	}))
	defer srv.Close()

	ctx := context.Background()
	c := gemini.New(srv.URL, "account-pnBFSS0XKGvDamX4uEIt", "secret")

	t, err := c.Ticker(ctx, "btcusd")
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("last", t.Last, "24h volume", t.Volume.BaseVolume(), t.Volume.Base)

	_, err = c.NewOrder(ctx, gemini.NewOrderRequest{
		Symbol: "btcusd", Side: gemini.SideBuy, Amount: "100", Price: "9346.20",
		Options: []string{gemini.OptionMakerOrCancel},
	})
	if gemini.IsReason(err, gemini.ReasonInsufficientFunds) {
		fmt.Println("not enough funds")
	}
	// Output:
	// last 9346.20 24h volume 1920.6 BTC
	// not enough funds
}

// A master key acting for two accounts of its group, with a timeout. Not run:
// it needs a server and credentials.
func ExampleClient_ForAccount() {
	c := gemini.New(gemini.SandboxURL, os.Getenv("GEMINI_API_KEY"), os.Getenv("GEMINI_API_SECRET"),
		gemini.WithHTTPClient(&http.Client{Timeout: 10 * time.Second}),
		gemini.WithAccount("primary"))
	ctx := context.Background()
	for _, acct := range []string{"primary", "my-secondary-account"} {
		bals, err := c.ForAccount(acct).Balances(ctx)
		if err != nil {
			log.Fatal(err)
		}
		for _, b := range bals {
			fmt.Println(acct, b.Currency, b.Available)
		}
	}
}
