package api

import (
	"context"
	"slices"
	"testing"

	"github.com/twinex/twinex/gemini"
)

// TestTransactionsPagesLoseNothing: paging /v1/transactions one row at a
// time gives the same rows as one page, including both sides of a trade
// between two accounts of the group (same time, same trade id).
func TestTransactionsPagesLoseNothing(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	newKey(t, ts, "m@example.com", `{"roles":"trader"}`, "BTC", "1")
	newKey(t, ts, "m@example.com", `{"roles":"trader"}`, "USD", "100000")
	master := client(ts, newKey(t, ts, "m@example.com", `{"master":true,"roles":"administrator,fundmanager,trader"}`))
	if _, err := master.CreateAccount(ctx, "bot", "exchange"); err != nil {
		t.Fatal(err)
	}
	if _, err := master.AccountTransfer(ctx, "usd", "primary", "bot", "50000"); err != nil {
		t.Fatal(err)
	}
	for _, side := range []struct{ acct, side string }{{"primary", "sell"}, {"bot", "buy"}} {
		if _, err := master.ForAccount(side.acct).NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "1", Price: "20000", Side: side.side}); err != nil {
			t.Fatal(err)
		}
	}
	rows := func(limit int) []string {
		var seen []string
		token := ""
		for range 50 {
			res, err := master.Transactions(ctx, gemini.TransactionsOptions{Limit: limit, ContinuationToken: token})
			if err != nil {
				t.Fatal(err)
			}
			for _, x := range res.Results {
				seen = append(seen, x.Account+":"+x.Type+x.TransferType)
			}
			if token = res.ContinuationToken; token == "" {
				break
			}
		}
		return seen
	}
	all, one := rows(100), rows(1)
	if !slices.Equal(all, one) || !slices.Contains(all, "primary:trade") || !slices.Contains(all, "bot:trade") {
		t.Fatalf("one page: %v\none row a page: %v", all, one)
	}
}
