package twinex

import (
	"reflect"
	"testing"
)

// Merging keeps the latest state of each keyed row and every new row; a
// Reset index and batch merge the next round as a fresh pair would, with
// nothing of the previous round left in either.
func TestMerge(t *testing.T) {
	order := func(id, filled int64) Order { return Order{ID: id, Filled: filled} }
	bal := func(acct int64, cur string, total int64) Balance {
		return Balance{AccountID: acct, Currency: cur, Total: I128(total)}
	}
	first := Batch{Orders: []Order{order(1, 0), order(2, 0)}, Balances: []Balance{bal(7, "USD", 10)},
		Trades: []Trade{{ID: 1}}, KeyUses: []KeyUse{{ID: "k", Seq: 5}}, JournalSeq: 3}
	second := Batch{Orders: []Order{order(2, 4), order(3, 0)}, Balances: []Balance{bal(7, "USD", 6), bal(7, "BTC", 1)},
		Trades: []Trade{{ID: 2}}, KeyUses: []KeyUse{{ID: "k", Seq: 4}}, JournalSeq: 4}
	want := Batch{Orders: []Order{order(1, 0), order(2, 4), order(3, 0)},
		Balances: []Balance{bal(7, "USD", 6), bal(7, "BTC", 1)}, Trades: []Trade{{ID: 1}, {ID: 2}},
		KeyUses: []KeyUse{{ID: "k", Seq: 5}}, JournalSeq: 4}

	var acc Batch
	var ix MergeIndex
	for round := range 3 {
		acc.Reset()
		ix.Reset()
		acc.Merge(&first, &ix)
		acc.Merge(&second, &ix)
		if !reflect.DeepEqual(acc.Orders, want.Orders) || !reflect.DeepEqual(acc.Balances, want.Balances) ||
			!reflect.DeepEqual(acc.Trades, want.Trades) || !reflect.DeepEqual(acc.KeyUses, want.KeyUses) ||
			acc.JournalSeq != want.JournalSeq {
			t.Fatalf("round %d: merged %+v\nwant %+v", round, acc, want)
		}
	}
	// Only the second batch, after a Reset: order 1 is not remembered.
	acc.Reset()
	ix.Reset()
	acc.Merge(&second, &ix)
	acc.Merge(&Batch{Orders: []Order{order(1, 9)}}, &ix)
	if len(acc.Orders) != 3 || acc.Orders[2] != order(1, 9) {
		t.Fatalf("after a reset: %+v", acc.Orders)
	}
}
