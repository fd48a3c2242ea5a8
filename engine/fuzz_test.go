package engine_test

import (
	"errors"
	"math/rand/v2"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// fuzzCommandSize is how many input bytes make one command.
const fuzzCommandSize = 6

// decodeCommand turns fuzzCommandSize bytes into a command against the test
// markets. Every field is reachable, including invalid ones, but most
// inputs are orders near the markets' mid prices so that books cross.
//
//	b[0]  kind: 0-6 limit, 7-8 stop limit, 9-10 cancel, 11 cancel-all,
//	      12 cancel-session, 13 deposit, 14 withdraw, 15 fees/transfer/none
//	b[1]  bits 0-2 account, 3-4 session
//	b[2]  bits 0-2 market (6, 7: none), 3 side, 4-5 option, 6-7 raw price
//	b[3]  price offset in ticks (or raw price); low byte of a cancelled id
//	b[4]  amount: bits 0-2 multiple of the minimum, 3-7 extra steps
//	b[5]  stop offset in ticks; bit 7: raw stop price
func decodeCommand(list []*twinex.Market, deposit map[string]int64, maxID int64, b []byte) engine.Command {
	accts := [...]int64{100, 101, 102, 100, 101, 102, 0, twinex.FeeAccountID}
	c := engine.Command{
		AccountID: accts[b[1]&7],
		Session:   [...]string{"a", "b", "UI", ""}[(b[1]>>3)&3],
	}
	op := b[0] & 15
	switch {
	case op <= 8:
		c.Kind = engine.Place
		c.Market = int(b[2] & 7)
		m := list[0]
		if c.Market < len(list) {
			m = list[c.Market]
		}
		c.Side = twinex.Side(1 + (b[2]>>3)&1)
		c.Option = twinex.Option((b[2] >> 4) & 3)
		c.Type = twinex.Limit
		if op >= 7 {
			c.Type = twinex.StopLimit
			c.Option = twinex.NoOption
			if b[0]&0x80 != 0 {
				c.Option = twinex.Option((b[2] >> 4) & 3)
			}
		}
		if b[0]&0x40 != 0 {
			c.Type = twinex.OrderType(b[0] >> 6) // 1 or 3: limit or invalid
		}
		tick := m.PriceTick
		c.Price = testMids[m.Symbol] + tick*int64(int8(b[3])%8)
		if b[2]>>6 == 3 {
			c.Price = int64(int8(b[3]))
		}
		c.Amount = m.MinAmount*int64(1+b[4]&7) + m.AmountStep*int64(b[4]>>3)
		if c.Type == twinex.StopLimit {
			off := tick * int64(1+b[5]&3)
			if c.Side == twinex.Buy {
				c.StopPrice = c.Price - off
			} else {
				c.StopPrice = c.Price + off
			}
			if b[5]&0x80 != 0 {
				c.StopPrice = c.Price + tick*int64(int8(b[5]<<1)>>1)
			}
		}
	case op <= 10:
		c.Kind = engine.Cancel
		c.OrderID = int64(uint16(b[3])|uint16(b[4])<<8) % (maxID + 2)
	case op == 11:
		c.Kind = engine.CancelAll
	case op == 12:
		c.Kind = engine.CancelSession
	default:
		curs := [...]string{"USD", "BTC", "ETH", "AAA", "BBB", "XYZ", "usd", "BTC"}
		c.Currency = curs[b[3]&7]
		d := deposit[c.Currency]
		if d == 0 {
			d = 1000
		}
		c.Funds = d >> (b[4] & 7)
		switch {
		case op == 13:
			c.Kind = engine.DepositFunds
			if b[5] == 0xff {
				// The largest single deposit: balances go past int64.
				c.Funds = 1<<63 - 1
			}
		case op == 14:
			c.Kind, c.Fee = engine.WithdrawFunds, int64(b[5])-4
		case b[5]&1 == 0:
			c.Kind, c.ToAccount = engine.TransferFunds, accts[(b[5]>>1)&7]
		default:
			c.Kind, c.AccountID = engine.SetFees, accts[b[1]&7]
			c.Fees = twinex.FeeRates{MakerBps: int64(b[3]) * 5, TakerBps: int64(b[4]) * 5}
		}
	}
	return c
}

// FuzzExchange runs a decoded command stream against the engine and the
// reference exchange: the engine's invariants must hold after every command,
// its errors must be client errors, and it must agree with the reference.
func FuzzExchange(f *testing.F) {
	f.Add([]byte{})
	// A buy and a sell that cross, then a cancel of the first.
	f.Add([]byte{0, 0, 0, 2, 1, 0, 0, 1, 8, 0, 2, 0, 9, 0, 0, 1, 0, 0})
	// A stop that triggers after a trade, then cancel-all.
	f.Add([]byte{7, 0, 0, 2, 0, 1, 0, 1, 8, 2, 1, 0, 0, 2, 0, 4, 0, 0, 11, 0, 0, 0, 0, 0})
	// Self-cross, fill-or-kill, maker-or-cancel in the coarse market.
	f.Add([]byte{0, 0, 2, 0, 3, 0, 0, 0, 10, 0, 1, 0, 0, 1, 0x32, 0, 2, 0, 0, 1, 0x1a, 0, 2, 0})
	// Funding commands, fee changes and raw prices.
	f.Add([]byte{13, 0, 0, 1, 0, 0, 14, 1, 0, 2, 3, 9, 15, 2, 0, 0, 0, 2, 15, 0, 0, 4, 9, 1, 0, 0, 0xc0, 0x85, 0, 0})
	rng := rand.New(rand.NewPCG(1, 2))
	for range 4 {
		b := make([]byte, 60*fuzzCommandSize)
		for i := range b {
			b[i] = byte(rng.Uint32())
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		ms := testMarkets(t)
		x := engine.New(ms)
		r := newRef(ms)
		g := newGen(1, ms)
		var ox, or engine.Output
		var batch twinex.Batch
		var maxID int64
		now := int64(1_700_000_000_000_000_000)
		apply := func(i int, c engine.Command) {
			now += 1000
			c.Time = now
			ox.Reset()
			or.Reset()
			rx := x.Apply(&c, &ox)
			rr := r.Apply(&c, &or)
			if rx.Err != nil {
				var e *twinex.Error
				if !errors.As(rx.Err, &e) || e.Reason == twinex.System {
					t.Fatalf("command %d (%s): error %v is not a client *twinex.Error", i, fmtCommand(&c), rx.Err)
				}
			}
			if err := x.Check(); err != nil {
				t.Fatalf("command %d (%s): %v", i, fmtCommand(&c), err)
			}
			for _, e := range ox.Events {
				if o := e.Order; o.Filled < 0 || o.Filled > o.Amount || o.Held < 0 || o.Fees < 0 {
					t.Fatalf("command %d (%s): bad order in event %s: %+v", i, fmtCommand(&c), e.Kind, o)
				}
			}
			for _, tr := range ox.Trades {
				if tr.Price <= 0 || tr.Amount <= 0 || tr.MakerAccount == tr.TakerAccount {
					t.Fatalf("command %d (%s): bad trade %+v", i, fmtCommand(&c), tr)
				}
			}
			if d := diffOutputs(rx, rr, &ox, &or); d != "" {
				t.Fatalf("command %d (%s): engine differs from the reference: %s", i, fmtCommand(&c), d)
			}
			if d := diffState(ms, engineView{x}, refView{r}); d != "" {
				t.Fatalf("command %d (%s): engine state differs from the reference: %s", i, fmtCommand(&c), d)
			}
			if c.Kind == engine.Place && rx.Err == nil {
				maxID = max(maxID, rx.Order.ID)
			}
		}
		i := 0
		for _, c := range g.funding() {
			apply(i, c)
			i++
		}
		for n := 0; len(data) >= fuzzCommandSize && n < 2000; n++ {
			b := data[:fuzzCommandSize]
			data = data[fuzzCommandSize:]
			if b[0]&15 == 15 && b[5]&3 == 3 {
				// Free closed orders, as the sequencer does between batches.
				batch.Reset()
				x.TakeChanges(&batch)
				continue
			}
			apply(i, decodeCommand(ms.List, g.deposit, maxID, b))
			i++
		}
	})
}
