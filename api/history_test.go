package api

import (
	"context"
	"strings"
	"testing"

	"github.com/twinex/twinex/gemini"
)

func TestHistoryAndVolumes(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	alice := client(ts, newKey(t, ts, "alice@example.com", `{"roles":"trader"}`, "USD", "100000"))
	bob := client(ts, newKey(t, ts, "bob@example.com", `{"roles":"trader"}`, "BTC", "2"))
	if _, err := bob.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "1", Price: "20000", Side: "sell"}); err != nil {
		t.Fatal(err)
	}
	buy, err := alice.NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.5", Price: "20000", Side: "buy"})
	if err != nil {
		t.Fatal(err)
	}
	hist, err := alice.OrdersHistory(ctx, gemini.OrdersHistoryOptions{Symbol: "BTCUSD"})
	if err != nil || len(hist) != 1 || hist[0].OrderID != buy.OrderID || len(hist[0].Trades) != 1 {
		t.Fatalf("history %+v %v", hist, err)
	}
	days, err := alice.TradeVolume(ctx)
	if err != nil || len(days) != 1 || len(days[0]) != 1 {
		t.Fatalf("tradevolume %+v %v", days, err)
	}
	d := days[0][0]
	if d.Symbol != "btcusd" || d.TotalVolumeBase != "0.5" || d.BuyTakerBase != "0.5" || d.BuyTakerNotional != "10000" || d.BuyTakerCount != 1 {
		t.Fatalf("tradevolume day %+v", d)
	}
	nv, err := bob.NotionalVolume(ctx, "")
	if err != nil || nv.APIMakerFeeBps != "10" || nv.APITakerFeeBps != "35" || nv.Notional30dVolume != "10000" || len(nv.Notional1dVolume) != 1 {
		t.Fatalf("notionalvolume %+v %v", nv, err)
	}
}

func TestMasterKeyEndpoints(t *testing.T) {
	ts := privateServer(t)
	ctx := context.Background()
	newKey(t, ts, "m@example.com", `{"roles":"trader"}`, "BTC", "1")
	master := client(ts, newKey(t, ts, "m@example.com", `{"master":true,"roles":"administrator,fundmanager,trader"}`))
	acct := client(ts, newKey(t, ts, "m@example.com", `{"roles":"trader"}`))

	created, err := master.CreateAccount(ctx, "My Bot #2", "exchange")
	if err != nil || created.Account != "my-bot-2" {
		t.Fatalf("create %+v %v", created, err)
	}
	if _, err := master.CreateAccount(ctx, "my bot 2", ""); !gemini.IsReason(err, "ConflictingAccountName") {
		t.Fatalf("duplicate name: %v", err)
	}
	if _, err := master.CreateAccount(ctx, "", ""); !gemini.IsReason(err, "MissingName") {
		t.Fatalf("missing name: %v", err)
	}
	list, err := master.ListAccounts(ctx, gemini.ListAccountsOptions{})
	if err != nil || len(list) != 2 || list[0].Account != "primary" || list[1].Account != "my-bot-2" {
		t.Fatalf("list %+v %v", list, err)
	}
	res, err := master.AccountTransfer(ctx, "btc", "primary", "my-bot-2", "0.25")
	if err != nil || res.Amount != "0.25" || res.Currency != "Bitcoin" {
		t.Fatalf("transfer %+v %v", res, err)
	}
	bals, err := master.ForAccount("my-bot-2").Balances(ctx)
	if err != nil || len(bals) != 1 || bals[0].Amount != "0.25" {
		t.Fatalf("balances of the new account %+v %v", bals, err)
	}
	if _, err := master.Balances(ctx); !gemini.IsReason(err, "MissingAccounts") {
		t.Fatalf("master key without account: %v", err)
	}
	if _, err := master.ForAccount("nope").Balances(ctx); !gemini.IsReason(err, "InvalidAccountName") {
		t.Fatalf("unknown account: %v", err)
	}
	if _, err := acct.ListAccounts(ctx, gemini.ListAccountsOptions{}); !gemini.IsReason(err, "MissingRole") {
		t.Fatalf("account key on a master endpoint: %v", err)
	}
	if _, err := master.AccountTransfer(ctx, "btc", "primary", "my-bot-2", "5"); !gemini.IsReason(err, "InsufficientFunds") {
		t.Fatalf("transfer beyond funds: %v", err)
	}
	if _, err := master.AccountTransfer(ctx, "btc", "primary", "my-bot-2", "0.000000001"); !gemini.IsReason(err, "InvalidQuantity") {
		t.Fatalf("transfer beyond BTC's precision (8 decimals): %v", err)
	}
	// The group's transactions: the deposit, then both sides of the
	// transfer, oldest first, one page at a time.
	var seen []string
	token := ""
	for page := 0; page < 5; page++ {
		res, err := master.Transactions(ctx, gemini.TransactionsOptions{Limit: 1, ContinuationToken: token})
		if err != nil {
			t.Fatal(err)
		}
		for _, x := range res.Results {
			seen = append(seen, x.Account+":"+x.TransferType+":"+string(x.Amount))
		}
		if token = res.ContinuationToken; token == "" {
			break
		}
	}
	want := []string{"primary:Deposit:1", "primary:Withdrawal:0.25", "my-bot-2:Deposit:0.25"}
	if strings.Join(seen, " ") != strings.Join(want, " ") {
		t.Fatalf("transactions %v, want %v", seen, want)
	}
}
