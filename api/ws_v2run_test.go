package api

import (
	"context"
	"encoding/json"
	"math/rand/v2"
	"slices"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/sqlite"
)

// v2Client is a v2 l2 client's view: the book from l2_updates and the
// trade ids in the order received.
type v2Client struct {
	book   map[[2]string]string
	trades []int64
	once   bool // each level at most once in an l2_updates
}

func (v *v2Client) apply(t *testing.T, frame []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(frame, &m); err != nil {
		t.Fatalf("%s: %v", frame, err)
	}
	var typ string
	json.Unmarshal(m["type"], &typ)
	switch typ {
	case "trade":
		var tr struct{ Tid int64 }
		json.Unmarshal(frame, &tr)
		v.trades = append(v.trades, tr.Tid)
	case "l2_updates":
		if len(m) != 3 || m["symbol"] == nil || m["changes"] == nil {
			t.Fatalf("an update has exactly type, symbol and changes: %s", frame)
		}
		var chs [][3]string
		if err := json.Unmarshal(m["changes"], &chs); err != nil {
			t.Fatalf("%s: %v", frame, err)
		}
		seen := map[[2]string]bool{}
		for _, ch := range chs {
			if v.once && seen[[2]string{ch[0], ch[1]}] {
				t.Fatalf("level %v twice in %s", ch, frame)
			}
			seen[[2]string{ch[0], ch[1]}] = true
			if k := [2]string{ch[0], ch[1]}; ch[2] == "0" || ch[2] == "0.00000000" {
				delete(v.book, k)
			} else {
				v.book[k] = ch[2]
			}
		}
	default:
		t.Fatalf("unexpected frame %s", frame)
	}
}

// TestV2RunMergesBookUpdates: a v2 client fed a seeded random stream of
// book updates, split into random runs as a writer finds them queued,
// sees after every run the same book and the same trades in the same
// order as a client sent one l2_updates per update, in fewer frames.
func TestV2RunMergesBookUpdates(t *testing.T) {
	db, err := sqlite.Open(t.TempDir() + "/twinex.db")
	if err != nil {
		t.Fatal(err)
	}
	c, err := core.Open(context.Background(), core.Config{Store: db, Markets: twinex.DefaultMarkets()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close(); db.Close() })
	conn := &wsConn{s: &Server{Core: c}}
	btc, eth := c.Markets().Index("btcusd"), c.Markets().Index("ethusd")
	seed := uint64(20261202)
	r := rand.New(rand.NewPCG(seed, 2))
	var ms []*feed.Msg
	tid := int64(0)
	for i := range 400 {
		m := &feed.Msg{Kind: feed.KindUpdate, Market: btc, EventID: int64(i + 1)}
		if r.IntN(8) == 0 {
			m.Market = eth // another market breaks a run
		}
		for range r.IntN(4) {
			tid++
			m.Trades = append(m.Trades, twinex.Trade{ID: tid, Market: "btcusd", Price: 3000000, Amount: 1000, TakerSide: twinex.Buy})
		}
		levels := map[[2]int64]bool{} // a diff names each level once
		for range r.IntN(4) {
			sd := []twinex.Side{twinex.Buy, twinex.Sell}[r.IntN(2)]
			ch := feed.Change{Side: sd, Price: 2999990 + r.Int64N(20), Amount: r.Int64N(3) * 1000}
			if !levels[[2]int64{int64(sd), ch.Price}] {
				levels[[2]int64{int64(sd), ch.Price}] = true
				m.Changes = append(m.Changes, ch)
			}
		}
		ms = append(ms, m)
	}
	one, merged := &v2Client{book: map[[2]string]string{}}, &v2Client{book: map[[2]string]string{}, once: true}
	var oneFrames, mergedFrames int
	p := &v2Proto{spells: map[[2]int]map[string]bool{}}
	for i := 0; i < len(ms); {
		j := min(len(ms), i+1+r.IntN(6))
		for _, m := range ms[i:j] {
			for _, f := range p.render(conn, m, nil) {
				one.apply(t, f)
				oneFrames++
			}
		}
		for _, f := range p.renderRun(conn, ms[i:j], nil) {
			merged.apply(t, f)
			mergedFrames++
		}
		if !maps2Equal(one.book, merged.book) || !slices.Equal(one.trades, merged.trades) {
			t.Fatalf("seed %d, after messages %d to %d: merged book %v trades %v, want %v %v", seed, i, j, merged.book, merged.trades, one.book, one.trades)
		}
		i = j
	}
	if mergedFrames >= oneFrames {
		t.Fatalf("seed %d: %d merged frames, %d unmerged", seed, mergedFrames, oneFrames)
	}
}

func maps2Equal(a, b map[[2]string]string) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}
