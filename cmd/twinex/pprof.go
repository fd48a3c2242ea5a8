package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"time"
)

// Profiling rates while --pprof-listen is on: one mutex contention event in
// mutexFraction is sampled, and one blocking event per blockRateNs of
// blocked time. Both cost a little on every contended lock or blocking
// channel operation, so they are off unless profiling was asked for.
const (
	mutexFraction = 10
	blockRateNs   = 10_000
)

// startPprof serves net/http/pprof at http://addr/debug/pprof/ on a
// listener of its own, never the API's, and turns on the mutex and block
// profiles. It returns the listener's close.
func startPprof(addr string) (func() error, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("pprof listen: %w", err)
	}
	runtime.SetMutexProfileFraction(mutexFraction)
	runtime.SetBlockProfileRate(blockRateNs)
	mux := http.NewServeMux()
	mux.HandleFunc("/debug/pprof/", pprof.Index)
	mux.HandleFunc("/debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("/debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("/debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("/debug/pprof/trace", pprof.Trace)
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			fmt.Fprintln(os.Stderr, "pprof:", err)
		}
	}()
	return srv.Close, nil
}
