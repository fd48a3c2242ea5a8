package api

import (
	"context"
	"crypto/rand"
	"fmt"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/gemini"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/sqlite"
)

// storeCalls counts the store calls the API makes, by method.
type storeCalls struct {
	n     atomic.Int64
	names chan string
}

func (c *storeCalls) add(name string) {
	c.n.Add(1)
	select {
	case c.names <- name:
	default:
	}
}

// countedAccounts is an AccountStore that counts every call.
type countedAccounts struct {
	st twinex.AccountStore
	c  *storeCalls
}

func (a countedAccounts) CreateUser(ctx context.Context, u *twinex.User) (twinex.Account, error) {
	a.c.add("CreateUser")
	return a.st.CreateUser(ctx, u)
}
func (a countedAccounts) User(ctx context.Context, id int64) (twinex.User, error) {
	a.c.add("User")
	return a.st.User(ctx, id)
}
func (a countedAccounts) UserByEmail(ctx context.Context, email string) (twinex.User, error) {
	a.c.add("UserByEmail")
	return a.st.UserByEmail(ctx, email)
}
func (a countedAccounts) SetIdentity(ctx context.Context, userID int64, s twinex.IdentityStatus) error {
	a.c.add("SetIdentity")
	return a.st.SetIdentity(ctx, userID, s)
}
func (a countedAccounts) CreateAccount(ctx context.Context, x *twinex.Account) error {
	a.c.add("CreateAccount")
	return a.st.CreateAccount(ctx, x)
}
func (a countedAccounts) Account(ctx context.Context, id int64) (twinex.Account, error) {
	a.c.add("Account")
	return a.st.Account(ctx, id)
}
func (a countedAccounts) Accounts(ctx context.Context, userID int64) ([]twinex.Account, error) {
	a.c.add("Accounts")
	return a.st.Accounts(ctx, userID)
}
func (a countedAccounts) CreateKey(ctx context.Context, k *twinex.APIKey) error {
	a.c.add("CreateKey")
	return a.st.CreateKey(ctx, k)
}
func (a countedAccounts) Key(ctx context.Context, id string) (twinex.APIKey, error) {
	a.c.add("Key")
	return a.st.Key(ctx, id)
}
func (a countedAccounts) Keys(ctx context.Context, userID int64) ([]twinex.APIKey, error) {
	a.c.add("Keys")
	return a.st.Keys(ctx, userID)
}
func (a countedAccounts) UpdateKey(ctx context.Context, k *twinex.APIKey) error {
	a.c.add("UpdateKey")
	return a.st.UpdateKey(ctx, k)
}
func (a countedAccounts) TouchKeys(ctx context.Context, uses []twinex.KeyUse) error {
	a.c.add("TouchKeys")
	return a.st.TouchKeys(ctx, uses)
}
func (a countedAccounts) KeyUses(ctx context.Context) ([]twinex.KeyUse, error) {
	a.c.add("KeyUses")
	return a.st.KeyUses(ctx)
}
func (a countedAccounts) KeyReplays(ctx context.Context, keyID string, after int64) ([]twinex.KeyReplay, error) {
	a.c.add("KeyReplays")
	return a.st.KeyReplays(ctx, keyID, after)
}
func (a countedAccounts) PruneKeyReplays(ctx context.Context, before int64) error {
	a.c.add("PruneKeyReplays")
	return a.st.PruneKeyReplays(ctx, before)
}

// countedExchange is an ExchangeStore that counts every query (the
// sequencer's Commit goes to the store itself, not through this).
type countedExchange struct {
	twinex.ExchangeStore
	c *storeCalls
}

func (x countedExchange) Order(ctx context.Context, id int64) (twinex.Order, error) {
	x.c.add("Order")
	return x.ExchangeStore.Order(ctx, id)
}
func (x countedExchange) Orders(ctx context.Context, q twinex.OrderQuery) ([]twinex.Order, error) {
	x.c.add("Orders")
	return x.ExchangeStore.Orders(ctx, q)
}
func (x countedExchange) Trades(ctx context.Context, q twinex.TradeQuery) ([]twinex.Trade, error) {
	x.c.add("Trades")
	return x.ExchangeStore.Trades(ctx, q)
}
func (x countedExchange) Transfers(ctx context.Context, q twinex.TransferQuery) ([]twinex.Transfer, error) {
	x.c.add("Transfers")
	return x.ExchangeStore.Transfers(ctx, q)
}
func (x countedExchange) Candles(ctx context.Context, q twinex.CandleQuery) ([]twinex.Candle, error) {
	x.c.add("Candles")
	return x.ExchangeStore.Candles(ctx, q)
}

// countedPlans is the quota's store, counting every call.
type countedPlans struct {
	st interface {
		twinex.UsageStore
		twinex.PlanStore
	}
	c *storeCalls
}

func (p countedPlans) Usage(ctx context.Context, keyID string, from, to int64) ([]twinex.UsagePoint, error) {
	p.c.add("Usage")
	return p.st.Usage(ctx, keyID, from, to)
}
func (p countedPlans) CountedSince(ctx context.Context, minute int64) (map[string]int64, error) {
	p.c.add("CountedSince")
	return p.st.CountedSince(ctx, minute)
}
func (p countedPlans) PruneUsage(ctx context.Context, minute int64) error {
	p.c.add("PruneUsage")
	return p.st.PruneUsage(ctx, minute)
}
func (p countedPlans) UserPlan(ctx context.Context, userID int64) (string, error) {
	p.c.add("UserPlan")
	return p.st.UserPlan(ctx, userID)
}
func (p countedPlans) SetUserPlan(ctx context.Context, userID int64, plan string) error {
	p.c.add("SetUserPlan")
	return p.st.SetUserPlan(ctx, userID, plan)
}

// countedServer is privateServer with a quota, and every store the API
// reaches counted.
func countedServer(t *testing.T) (*httptest.Server, *storeCalls) {
	t.Helper()
	db, err := sqlite.Open(t.TempDir() + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.Open(context.Background(), core.Config{Store: db, Markets: twinex.DefaultMarkets()})
	if err != nil {
		t.Fatal(err)
	}
	mk := make([]byte, 32)
	rand.Read(mk)
	sealer, err := auth.NewSealer(mk)
	if err != nil {
		t.Fatal(err)
	}
	calls := &storeCalls{names: make(chan string, 64)}
	accts := countedAccounts{st: db, c: calls}
	s := &Server{Core: c, Store: countedExchange{db, calls}, Accounts: accts, Addresses: db, AdminToken: testToken,
		Keys:  &keys.Service{Store: accts, Sealer: sealer},
		Quota: &quota.Service{Store: countedPlans{db, calls}}}
	ts := httptest.NewServer(s.Handler())
	servers.Store(ts, s)
	t.Cleanup(func() {
		servers.Delete(ts)
		ts.Close()
		checkLedger(t, c)
		c.Close()
		db.Close()
	})
	return ts, calls
}

// TestSignedOrdersReadNoStore: once a key has been used, placing and
// cancelling orders reads and writes nothing in the store but the
// sequencer's own batch: not the key (authentication, nonces), not the
// plan (quota), not the account a master key or an account key names,
// not the order a cancel names while it is open. Cancelling an order
// already closed reads it from the history, once.
func TestSignedOrdersReadNoStore(t *testing.T) {
	ts, calls := countedServer(t)
	ctx := context.Background()
	plain := newKey(t, ts, "plain@example.com", `{"roles":"trader"}`, "USD", "100000")
	// A key of its own for each client: two clients' nonces on one key
	// need not increase.
	restating := newKey(t, ts, "plain@example.com", `{"roles":"trader"}`)
	timed := newKey(t, ts, "timed@example.com", `{"roles":"trader","time_nonce":true}`, "USD", "100000")
	master := newKey(t, ts, "master@example.com", `{"master":true,"roles":"trader"}`, "USD", "100000")
	clients := map[string]*gemini.Client{
		"account key":                   client(ts, plain),
		"account key naming its own":    client(ts, restating, gemini.WithAccount("primary")),
		"time-based nonce key":          client(ts, timed, gemini.WithTimeNonce()),
		"master key naming its account": client(ts, master, gemini.WithAccount("primary")),
	}
	n := 0
	trade := func(name string, c *gemini.Client) {
		t.Helper()
		// A client order id of its own: a time-based key's nonce repeats
		// within the second, and an identical signed request is a replay.
		n++
		o, err := c.NewOrder(ctx, gemini.NewOrderRequest{ClientOrderID: fmt.Sprint("o", n), Symbol: "btcusd", Amount: "0.0001", Price: "1000.00", Side: "buy"})
		if err != nil {
			t.Fatalf("%s: new order: %v", name, err)
		}
		if _, err := c.CancelOrder(ctx, o.OrderID); err != nil {
			t.Fatalf("%s: cancel: %v", name, err)
		}
	}
	for name, c := range clients {
		trade(name, c) // the first use loads the key, its plan and its account
	}
	calls.n.Store(0)
	for len(calls.names) > 0 {
		<-calls.names
	}
	for range 5 {
		for name, c := range clients {
			trade(name, c)
		}
	}
	if n := calls.n.Load(); n != 0 {
		var names []string
		for len(calls.names) > 0 {
			names = append(names, <-calls.names)
		}
		t.Fatalf("%d store calls on 40 signed orders and cancels: %v", n, names)
	}
	// The one store read left: cancelling an order that is no longer open
	// answers with its final state, which only the history has.
	c := clients["account key"]
	o, err := c.NewOrder(ctx, gemini.NewOrderRequest{ClientOrderID: "closed", Symbol: "btcusd", Amount: "0.0001", Price: "1000.00", Side: "buy"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.CancelOrder(ctx, o.OrderID); err != nil {
		t.Fatal(err)
	}
	calls.n.Store(0)
	for len(calls.names) > 0 {
		<-calls.names
	}
	if again, err := c.CancelOrder(ctx, o.OrderID); err != nil || !again.IsCancelled {
		t.Fatalf("cancel of a cancelled order: %+v %v", again, err)
	}
	if n := calls.n.Load(); n != 1 || <-calls.names != "Order" {
		t.Fatalf("%d store calls to cancel a closed order, want one Order", n)
	}
	// Revocation still takes effect on the very next request.
	s := serverOf(t, ts)
	if _, err := s.Keys.Revoke(ctx, plain.Key); err != nil {
		t.Fatal(err)
	}
	_, err = client(ts, plain).NewOrder(ctx, gemini.NewOrderRequest{Symbol: "btcusd", Amount: "0.0001", Price: "1000.00", Side: "buy"})
	var apiErr *gemini.APIError
	if !asAPIError(err, &apiErr) || apiErr.Reason != twinex.InvalidSignature {
		t.Fatalf("order with a revoked key: %v", err)
	}
}

// TestAccountCacheAssumesImmutableAccounts: the account cache keeps
// accounts for the server's life, which is right only while no store
// method changes or removes an account. A method that does must also
// drop the account from the cache (accountCache).
func TestAccountCacheAssumesImmutableAccounts(t *testing.T) {
	known := map[string]bool{"CreateUser": true, "CreateAccount": true, "Account": true, "Accounts": true}
	typ := reflect.TypeFor[twinex.AccountStore]()
	for i := range typ.NumMethod() {
		name := typ.Method(i).Name
		if strings.Contains(name, "Account") && !known[name] {
			t.Errorf("AccountStore.%s may change accounts: make accountCache forget what it changes", name)
		}
	}
}
