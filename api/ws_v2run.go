package api

import (
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/feed"
)

// renderRun renders one queue item of a v2 connection (one pass of the
// hub: every batch committed since the last). A run of
// consecutive book updates of one market goes out as its trades, one
// `trade` message each and in order, and then one `l2_updates` with the
// run's changes, each level once with its final quantity. A client
// applying it reaches the same book as with one `l2_updates` per update,
// and the reference leaves the order of a trade and the `l2_updates` it
// causes open (gemini-websocket.md §6.4). Under load this sends a few
// frames per write instead of one per committed batch, which is what the
// subscribers' CPU (ours and theirs) is spent on. Every subscriber of
// the market gets the same item, so the merged frame is rendered once
// (feed.Msg.EncodedRun). A run of one update is rendered as render does.
func (p *v2Proto) renderRun(c *wsConn, ms []*feed.Msg, out [][]byte) [][]byte {
	for i := 0; i < len(ms); {
		j := i + 1
		if ms[i].Kind == feed.KindUpdate {
			for j < len(ms) && ms[j].Kind == feed.KindUpdate && ms[j].Market == ms[i].Market {
				j++
			}
		}
		if j-i == 1 {
			out = p.render(c, ms[i], out)
			i = j
			continue
		}
		run := ms[i:j]
		mk := c.s.Core.Markets().List[ms[i].Market]
		for _, m := range run {
			fs := m.Encoded(slotV2L2, func() [][]byte { return v2L2(mk, m) })
			if len(m.Changes) > 0 {
				fs = fs[:len(fs)-1] // its l2_updates, merged below
			}
			out = append(out, fs...)
		}
		if b := run[0].EncodedRun(run[len(run)-1].EventID, func() []byte { return v2MergedL2(mk, run) }); b != nil {
			out = append(out, b)
		}
		i = j
	}
	return out
}

// v2MergedL2 renders the book changes of a run of updates as one
// l2_updates: each level once, where it first changed, with its last
// quantity. nil when the run changed no level.
func v2MergedL2(mk *twinex.Market, run []*feed.Msg) []byte {
	type level struct {
		side  twinex.Side
		price int64
	}
	at := map[level]int{}
	var changes []feed.Change
	for _, m := range run {
		for _, ch := range m.Changes {
			k := level{ch.Side, ch.Price}
			if i, ok := at[k]; ok {
				changes[i].Amount = ch.Amount
				continue
			}
			at[k] = len(changes)
			changes = append(changes, ch)
		}
	}
	if len(changes) == 0 {
		return nil
	}
	b := []byte(`{"type":"l2_updates","symbol":"`)
	b = append(b, strings.ToUpper(mk.Symbol)...)
	b = append(b, `","changes":[`...)
	for k, ch := range changes {
		if k > 0 {
			b = append(b, ',')
		}
		side := "buy"
		if ch.Side == twinex.Sell {
			side = "sell"
		}
		b = appendV2Change(b, mk, side, ch.Price, ch.Amount)
	}
	return append(b, "]}"...)
}
