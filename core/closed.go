package core

import (
	"encoding/binary"
	"fmt"
	"slices"

	"github.com/twinex/twinex"
)

// replayRows are the rows a replay gathers outside its batch, which hold
// most of its memory: stored so that none grows by copying into fresh
// memory, whose page faults cost more than the copy.
type replayRows struct {
	closed    closedOrders
	trades    chunks[twinex.Trade]
	transfers chunks[twinex.Transfer]
}

// addTo adds the rows to b.
func (r *replayRows) addTo(b *twinex.Batch) error {
	b.Trades = r.trades.appendTo(b.Trades)
	b.Transfers = r.transfers.appendTo(b.Transfers)
	var err error
	b.Orders, err = r.closed.appendTo(b.Orders)
	return err
}

// chunks is a list kept in chunks made once each.
type chunks[T any] struct {
	list [][]T
	n    int
}

// chunkLen is the length of a chunk.
const chunkLen = 4096

func (c *chunks[T]) add(xs []T) {
	for len(xs) > 0 {
		k := len(c.list) - 1
		if k < 0 || len(c.list[k]) == cap(c.list[k]) {
			c.list = append(c.list, make([]T, 0, chunkLen))
			k++
		}
		m := min(len(xs), cap(c.list[k])-len(c.list[k]))
		c.list[k] = append(c.list[k], xs[:m]...)
		xs = xs[m:]
		c.n += m
	}
}

func (c *chunks[T]) appendTo(dst []T) []T {
	dst = slices.Grow(dst, c.n)
	for _, l := range c.list {
		dst = append(dst, l...)
	}
	return dst
}

// closedOrders holds the final states of the orders a replay closes,
// encoded as they close. A replay of a million commands closes most of the
// orders it places; held as twinex.Orders (about 200 bytes each, strings
// included) their fresh memory was the largest cost of a restart, which
// the states encoded here (about 60 bytes, no pointers for the collector
// to scan) mostly avoid. The projector decodes them into its batch.
type closedOrders struct {
	chunks [][]byte // each made once at its size, never grown by copying
	n      int
}

// closedChunk is the size of closedOrders' chunks.
const closedChunk = 1 << 20

// add appends o's state.
func (l *closedOrders) add(o *twinex.Order) {
	// 19 integers of at most 10 bytes, 4 string lengths and the strings.
	need := 19*binary.MaxVarintLen64 + 4*binary.MaxVarintLen64 +
		len(o.ClientOrderID) + len(o.Session) + len(o.Market) + len(o.CancelReason)
	k := len(l.chunks) - 1
	if k < 0 || cap(l.chunks[k])-len(l.chunks[k]) < need {
		l.chunks = append(l.chunks, make([]byte, 0, max(closedChunk, need)))
		k++
	}
	b := l.chunks[k]
	b = binary.AppendVarint(b, o.ID)
	b = appendString(b, o.ClientOrderID)
	b = binary.AppendVarint(b, o.AccountID)
	b = appendString(b, o.Session)
	b = appendString(b, o.Market)
	b = binary.AppendUvarint(b, uint64(o.Side))
	b = binary.AppendUvarint(b, uint64(o.Type))
	b = binary.AppendUvarint(b, uint64(o.Option))
	b = binary.AppendVarint(b, o.Price)
	b = binary.AppendVarint(b, o.StopPrice)
	b = binary.AppendVarint(b, o.Amount)
	b = binary.AppendVarint(b, o.Filled)
	b = binary.AppendVarint(b, o.FilledNotional)
	b = binary.AppendVarint(b, o.Fees)
	b = binary.AppendVarint(b, o.Held)
	b = binary.AppendVarint(b, o.MakerBps)
	b = binary.AppendVarint(b, o.TakerBps)
	b = binary.AppendUvarint(b, uint64(o.Status))
	b = appendString(b, o.CancelReason)
	b = binary.AppendVarint(b, o.Seq)
	b = binary.AppendVarint(b, o.Created)
	b = binary.AppendVarint(b, o.Updated-o.Created)
	l.chunks[k] = b
	l.n++
}

// appendTo decodes the states into dst, in the order they were added.
func (l *closedOrders) appendTo(dst []twinex.Order) ([]twinex.Order, error) {
	var in interner
	dst = slices.Grow(dst, l.n)
	for _, c := range l.chunks {
		d := decoder{b: c, in: &in}
		for len(d.b) > 0 && d.err == nil {
			var o twinex.Order
			o.ID = d.varint()
			o.ClientOrderID = d.string()
			o.AccountID = d.varint()
			o.Session = d.common()
			o.Market = d.common()
			o.Side = twinex.Side(d.uvarint())
			o.Type = twinex.OrderType(d.uvarint())
			o.Option = twinex.Option(d.uvarint())
			o.Price = d.varint()
			o.StopPrice = d.varint()
			o.Amount = d.varint()
			o.Filled = d.varint()
			o.FilledNotional = d.varint()
			o.Fees = d.varint()
			o.Held = d.varint()
			o.MakerBps = d.varint()
			o.TakerBps = d.varint()
			o.Status = twinex.OrderStatus(d.uvarint())
			o.CancelReason = d.common()
			o.Seq = d.varint()
			o.Created = d.varint()
			o.Updated = o.Created + d.varint()
			if d.err == nil {
				dst = append(dst, o)
			}
		}
		if d.err != nil {
			return dst, fmt.Errorf("the replay's closed orders: %w", d.err)
		}
	}
	return dst, nil
}
