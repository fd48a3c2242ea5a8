package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"time"
)

// SocketsConfig configures the socket floor: Conns loopback TCP
// connections, each written Bytes at a time by a goroutine of its own (as
// the WebSocket writers are) and read by a goroutine of its own (as the
// ws benchmark's subscribers are), in rounds, for Duration.
type SocketsConfig struct {
	Conns    int
	Bytes    int
	Duration time.Duration
}

// SocketsResult is the socket floor's figures: how long one write to every
// connection takes, back to back with nothing else running, and what a
// write and its read cost in CPU. It is the machine's bound on fanning a
// batch out to that many sockets, whatever the server does around it.
type SocketsResult struct {
	Conns         int     `json:"conns"`
	BytesPerWrite int     `json:"bytes_per_write"`
	Rounds        int     `json:"rounds"`
	WritesPerSec  float64 `json:"writes_per_sec"`
	RoundP50ms    float64 `json:"round_p50_ms"`
	RoundP99ms    float64 `json:"round_p99_ms"`
	CPUusPerWrite float64 `json:"cpu_us_per_write"` // the write and its read
	Cores         float64 `json:"cores"`
}

// Sockets measures the socket floor: in each round every writer is woken
// and writes once, and the round ends when every reader has read it.
func Sockets(ctx context.Context, cfg SocketsConfig) (SocketsResult, error) {
	res := SocketsResult{Conns: cfg.Conns, BytesPerWrite: cfg.Bytes}
	if cfg.Conns <= 0 || cfg.Bytes <= 0 || cfg.Duration <= 0 {
		return res, fmt.Errorf("bench: the socket floor needs connections, bytes and a duration")
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return res, err
	}
	defer ln.Close()
	var conns []net.Conn
	var wg sync.WaitGroup
	var wake []chan struct{}
	defer func() { // writers, then connections (which ends the readers), then wait
		for _, w := range wake {
			close(w)
		}
		for _, c := range conns {
			c.Close()
		}
		wg.Wait()
	}()
	var d net.Dialer
	for range cfg.Conns {
		c, err := d.DialContext(ctx, "tcp", ln.Addr().String())
		if err != nil {
			return res, fmt.Errorf("bench: %w (is the open-file limit above %d?)", err, 2*cfg.Conns)
		}
		conns = append(conns, c)
		s, err := ln.Accept()
		if err != nil {
			return res, err
		}
		conns = append(conns, s)
	}
	got := make(chan struct{}, cfg.Conns)
	wake = make([]chan struct{}, cfg.Conns)
	payload := make([]byte, cfg.Bytes)
	for i := range cfg.Conns {
		wake[i] = make(chan struct{}, 1)
		wg.Add(2)
		go func(c net.Conn) { // the reader
			defer wg.Done()
			buf := make([]byte, 64<<10)
			have := 0
			for {
				n, err := c.Read(buf)
				if err != nil {
					return
				}
				for have += n; have >= cfg.Bytes; have -= cfg.Bytes {
					got <- struct{}{}
				}
			}
		}(conns[2*i])
		go func(c net.Conn, wake chan struct{}) { // the writer
			defer wg.Done()
			for range wake {
				if _, err := c.Write(payload); err != nil {
					return
				}
			}
		}(conns[2*i+1], wake[i])
	}

	var rounds []int64
	cpu0 := cpuOf(os.Getpid())
	start := time.Now()
	for time.Since(start) < cfg.Duration && ctx.Err() == nil {
		t := time.Now()
		for _, w := range wake {
			w <- struct{}{}
		}
		stuck := time.NewTimer(10 * time.Second)
		for range cfg.Conns {
			select {
			case <-got:
			case <-ctx.Done():
				return res, ctx.Err()
			case <-stuck.C:
				return res, errors.New("bench: a round took over 10 s: a connection failed")
			}
		}
		stuck.Stop()
		rounds = append(rounds, int64(time.Since(t)))
	}
	elapsed, cpu := time.Since(start), cpuOf(os.Getpid())-cpu0
	if len(rounds) == 0 {
		return res, ctx.Err()
	}
	slices.Sort(rounds)
	writes := float64(len(rounds) * cfg.Conns)
	res.Rounds = len(rounds)
	res.WritesPerSec = writes / elapsed.Seconds()
	res.RoundP50ms, res.RoundP99ms = quantileMs(rounds, 0.5), quantileMs(rounds, 0.99)
	res.CPUusPerWrite = float64(cpu.Microseconds()) / writes
	res.Cores = cpu.Seconds() / elapsed.Seconds()
	return res, nil
}
