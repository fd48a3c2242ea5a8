package core

import (
	"reflect"
	"slices"
	"testing"

	"github.com/twinex/twinex"
)

// Every field of an order survives closedOrders, across chunks: a field
// added to twinex.Order and not encoded fails here.
func TestClosedOrdersKeepEveryField(t *testing.T) {
	var l closedOrders
	var want []twinex.Order
	for i := range 3 * closedChunk / 60 {
		var o twinex.Order
		v := reflect.ValueOf(&o).Elem()
		for f := range v.NumField() {
			switch fv := v.Field(f); fv.Kind() {
			case reflect.String:
				fv.SetString(string(rune('a'+f)) + "-" + v.Type().Field(f).Name)
			case reflect.Int64:
				fv.SetInt(int64(i+1)*1_000_003 + int64(f) - 1<<40*int64(i%2))
			case reflect.Uint8:
				fv.SetUint(uint64(f%3 + 1))
			default:
				t.Fatalf("twinex.Order.%s is a %s: teach closedOrders and this test", v.Type().Field(f).Name, fv.Kind())
			}
		}
		o.ClientOrderID = string(make([]byte, i%300)) // some long, some empty
		l.add(&o)
		want = append(want, o)
	}
	if len(l.chunks) < 2 {
		t.Fatalf("%d orders in %d chunk: the test wants several", len(want), len(l.chunks))
	}
	got, err := l.appendTo([]twinex.Order{{ID: -1}})
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got[1:], want) || got[0].ID != -1 {
		t.Fatalf("decoded %d orders, not the %d added (after the one already there)", len(got), len(want))
	}
	l.chunks[len(l.chunks)-1] = l.chunks[len(l.chunks)-1][:len(l.chunks[len(l.chunks)-1])-1]
	if _, err := l.appendTo(nil); err == nil {
		t.Fatal("a cut chunk decoded without an error")
	}
}

func TestChunksKeepOrder(t *testing.T) {
	var c chunks[int]
	var want []int
	for i := range 3000 {
		xs := make([]int, i%7)
		for k := range xs {
			xs[k] = len(want)
			want = append(want, len(want))
		}
		c.add(xs)
	}
	if len(c.list) < 2 {
		t.Fatalf("%d values in %d chunk: the test wants several", len(want), len(c.list))
	}
	if got := c.appendTo([]int{-1}); got[0] != -1 || !slices.Equal(got[1:], want) {
		t.Fatalf("chunks gave back %d values, not the %d added in order", len(got)-1, len(want))
	}
}
