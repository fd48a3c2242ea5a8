package feed

import (
	"math/rand/v2"
	"testing"
)

// TestWatchersFollowAModel sets random bits on random subscribers and
// checks the list and its index against a map after every change.
func TestWatchersFollowAModel(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	subs := make([]*Sub, 12)
	for i := range subs {
		subs[i] = NewSub(1, "")
	}
	var w watchers
	model := map[*Sub]uint16{}
	for range 5000 {
		s := subs[r.IntN(len(subs))]
		bits := uint16(r.IntN(4))
		w.set(s, bits)
		if bits == 0 {
			delete(model, s)
		} else {
			model[s] = bits
		}
		if len(w.list) != len(model) || len(w.at) != len(model) {
			t.Fatalf("%d listed, %d indexed, want %d", len(w.list), len(w.at), len(model))
		}
		for k, e := range w.list {
			if model[e.s] != e.bits || w.at[e.s] != k {
				t.Fatalf("entry %d: bits %d at %d, want %d", k, e.bits, w.at[e.s], model[e.s])
			}
		}
	}
}
