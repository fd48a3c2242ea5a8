package bench

import (
	"context"
	"testing"
	"time"
)

// TestWSInProcess runs the fan-out benchmark small, in one process: the
// figures are there and say where their latency is from; their values
// are not checked.
func TestWSInProcess(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server")
	}
	res, err := WS(context.Background(), WSConfig{Subscribers: 5, Duration: time.Second, OrdersPerSec: 40, Loaders: 2})
	if err != nil {
		t.Fatal(err)
	}
	if res.Mode != "in-process" || res.LatencyFrom != LatencyFromCommit || res.Subscribers != 5 {
		t.Fatalf("%+v", res)
	}
	if res.Trades == 0 || res.Samples == 0 || res.MessagesPerSec <= 0 || res.DroppedClients != 0 || res.Errors != 0 {
		t.Fatalf("no load measured: %+v", res)
	}
}

// TestTradeFrame reads a v2 trade frame's id and stamp, and nothing else.
func TestTradeFrame(t *testing.T) {
	id, ms, ok := tradeFrame([]byte(`{"type":"trade","symbol":"BTCUSD","event_id":41,"timestamp":1764633600123,"price":"30000.00","quantity":"0.2","side":"buy","tid":41}`))
	if !ok || id != 41 || ms != 1764633600123 {
		t.Fatalf("%d %d %v", id, ms, ok)
	}
	id, ms, ok = tradeFrame([]byte(`{"type":"trade","symbol":"BTCUSD","timestamp":1764633600124,"event_id":42,"price":"30000.00"}`))
	if !ok || id != 42 || ms != 1764633600124 {
		t.Fatalf("fields in another order: %d %d %v", id, ms, ok)
	}
	if _, _, ok := tradeFrame([]byte(`{"type":"l2_updates","symbol":"BTCUSD","changes":[]}`)); ok {
		t.Fatal("an l2_updates read as a trade")
	}
}

// TestSocketsFloor runs the socket floor briefly.
func TestSocketsFloor(t *testing.T) {
	res, err := Sockets(t.Context(), SocketsConfig{Conns: 20, Bytes: 3000, Duration: 200 * time.Millisecond})
	if err != nil {
		t.Fatal(err)
	}
	if res.Rounds == 0 || res.WritesPerSec <= 0 || res.RoundP99ms < res.RoundP50ms || res.CPUusPerWrite <= 0 {
		t.Fatalf("%+v", res)
	}
}
