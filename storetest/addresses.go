package storetest

import (
	"context"
	"errors"
	"reflect"
	"testing"

	"github.com/twinex/twinex"
)

// AddressOpener opens the AddressStore kept in dir; reopening the same dir
// must find what was stored. The suite closes what it opens through the
// returned close function.
type AddressOpener func(t *testing.T, dir string) (twinex.AddressStore, func())

// RunAddresses is the contract suite of twinex.AddressStore.
func RunAddresses(t *testing.T, open AddressOpener) { // long: one contract suite; its cases are subtests sharing the opener, read top to bottom
	ctx := context.Background()
	newStore := func(t *testing.T) twinex.AddressStore {
		s, closeFn := open(t, t.TempDir())
		t.Cleanup(closeFn)
		return s
	}

	t.Run("DepositAddresses", func(t *testing.T) {
		s := newStore(t)
		a1 := twinex.DepositAddress{AccountID: 100, Network: "bitcoin", Currency: "BTC", Address: "bc1qexampleone", Label: "cold ✓", Created: 5}
		a2 := twinex.DepositAddress{AccountID: 100, Network: "bitcoin", Currency: "BTC", Address: "bc1qexampletwo", Created: 6}
		a3 := twinex.DepositAddress{AccountID: 100, Network: "ethereum", Currency: "ETH", Address: "0xAbC", Created: 7}
		a4 := twinex.DepositAddress{AccountID: 101, Network: "bitcoin", Currency: "BTC", Address: "bc1qexamplethree", Created: 8}
		for _, a := range []*twinex.DepositAddress{&a1, &a2, &a3, &a4} {
			if err := s.CreateDepositAddress(ctx, a); err != nil {
				t.Fatal(err)
			}
			if a.ID == 0 {
				t.Fatalf("no id set on %+v", a)
			}
		}
		if a1.ID == a2.ID || a2.ID == a3.ID {
			t.Fatalf("ids repeat: %d %d %d", a1.ID, a2.ID, a3.ID)
		}
		dup := twinex.DepositAddress{AccountID: 101, Network: "bitcoin", Currency: "BTC", Address: "bc1qexampleone"}
		if err := s.CreateDepositAddress(ctx, &dup); !errors.Is(err, twinex.ErrConflict) {
			t.Fatalf("address taken on its network: %v", err)
		}
		// The same text on another network is another address.
		other := twinex.DepositAddress{AccountID: 101, Network: "litecoin", Currency: "LTC", Address: "bc1qexampleone"}
		if err := s.CreateDepositAddress(ctx, &other); err != nil {
			t.Fatalf("same text on another network: %v", err)
		}
		got, err := s.DepositAddresses(ctx, 100, "bitcoin")
		if err != nil || !reflect.DeepEqual(got, []twinex.DepositAddress{a1, a2}) {
			t.Fatalf("DepositAddresses (oldest first):\n got %+v %v\nwant %+v", got, err, []twinex.DepositAddress{a1, a2})
		}
		if got, err := s.DepositAddresses(ctx, 100, "solana"); err != nil || len(got) != 0 {
			t.Fatalf("no addresses: %+v %v", got, err)
		}
	})

	t.Run("ApprovedAddresses", func(t *testing.T) {
		s := newStore(t)
		e1 := twinex.ApprovedAddress{AccountID: 100, Network: "ethereum", Address: "0x1111", Label: "hw wallet", Memo: "m", Created: 10, Active: 10 + 7*86400e9}
		e2 := twinex.ApprovedAddress{AccountID: 100, Network: "ethereum", Address: "0x2222", Created: 11, Active: 11}
		e3 := twinex.ApprovedAddress{AccountID: 100, Network: "bitcoin", Address: "0x1111", Created: 12, Active: 12}
		e4 := twinex.ApprovedAddress{AccountID: 101, Network: "ethereum", Address: "0x1111", Created: 13, Active: 13}
		for _, e := range []*twinex.ApprovedAddress{&e1, &e2, &e3, &e4} {
			if err := s.ApproveAddress(ctx, e); err != nil {
				t.Fatal(err)
			}
		}
		if err := s.ApproveAddress(ctx, &twinex.ApprovedAddress{AccountID: 100, Network: "ethereum", Address: "0x1111", Created: 14}); !errors.Is(err, twinex.ErrConflict) {
			t.Fatalf("address already listed: %v", err)
		}
		got, err := s.ApprovedAddresses(ctx, 100, "ethereum")
		if err != nil || !reflect.DeepEqual(got, []twinex.ApprovedAddress{e1, e2}) {
			t.Fatalf("ApprovedAddresses (oldest first):\n got %+v %v\nwant %+v", got, err, []twinex.ApprovedAddress{e1, e2})
		}
		if err := s.RemoveApprovedAddress(ctx, 100, "ethereum", "0x1111", 20); err != nil {
			t.Fatal(err)
		}
		if err := s.RemoveApprovedAddress(ctx, 100, "ethereum", "0x1111", 21); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("removing twice: %v", err)
		}
		if err := s.RemoveApprovedAddress(ctx, 100, "ethereum", "0x9999", 21); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("removing an unknown address: %v", err)
		}
		if got, err := s.ApprovedAddresses(ctx, 100, "ethereum"); err != nil || !reflect.DeepEqual(got, []twinex.ApprovedAddress{e2}) {
			t.Fatalf("after removal: %+v %v", got, err)
		}
		// The allowlist stays used once it was, removals or not.
		if err := s.RemoveApprovedAddress(ctx, 101, "ethereum", e4.Address, 22); err != nil {
			t.Fatal(err)
		}
		if used, err := s.AllowlistUsed(ctx, 101, "ethereum"); err != nil || !used {
			t.Fatalf("AllowlistUsed after removing every entry: %v %v", used, err)
		}
		if used, err := s.AllowlistUsed(ctx, 101, "solana"); err != nil || used {
			t.Fatalf("AllowlistUsed of a network never used: %v %v", used, err)
		}
		if err := s.ApproveAddress(ctx, &e4); err != nil {
			t.Fatal(err)
		}
		// Other accounts' and networks' entries are untouched.
		if got, _ := s.ApprovedAddresses(ctx, 101, "ethereum"); !reflect.DeepEqual(got, []twinex.ApprovedAddress{e4}) {
			t.Fatalf("another account's list: %+v", got)
		}
		if got, _ := s.ApprovedAddresses(ctx, 100, "bitcoin"); !reflect.DeepEqual(got, []twinex.ApprovedAddress{e3}) {
			t.Fatalf("another network's list: %+v", got)
		}
		// A removed address may be approved again, as a new entry.
		again := twinex.ApprovedAddress{AccountID: 100, Network: "ethereum", Address: "0x1111", Label: "back", Created: 30, Active: 40}
		if err := s.ApproveAddress(ctx, &again); err != nil {
			t.Fatalf("approving a removed address again: %v", err)
		}
		if got, _ := s.ApprovedAddresses(ctx, 100, "ethereum"); !reflect.DeepEqual(got, []twinex.ApprovedAddress{e2, again}) {
			t.Fatalf("after approving again: %+v", got)
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		dir := t.TempDir()
		s, closeFn := open(t, dir)
		d := twinex.DepositAddress{AccountID: 100, Network: "solana", Currency: "SOL", Address: "So1", Created: 1}
		e := twinex.ApprovedAddress{AccountID: 100, Network: "solana", Address: "So2", Created: 2, Active: 3}
		if err := s.CreateDepositAddress(ctx, &d); err != nil {
			t.Fatal(err)
		}
		if err := s.ApproveAddress(ctx, &e); err != nil {
			t.Fatal(err)
		}
		closeFn()
		s, closeFn = open(t, dir)
		defer closeFn()
		if got, err := s.DepositAddresses(ctx, 100, "solana"); err != nil || !reflect.DeepEqual(got, []twinex.DepositAddress{d}) {
			t.Fatalf("deposit addresses after reopen: %+v %v", got, err)
		}
		if got, err := s.ApprovedAddresses(ctx, 100, "solana"); err != nil || !reflect.DeepEqual(got, []twinex.ApprovedAddress{e}) {
			t.Fatalf("approved addresses after reopen: %+v %v", got, err)
		}
	})
}
