package main

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
)

// TestBenchAPIRefusesConflictingFlags: a started server and a target URL
// exclude each other, and profiles need a server that serves them.
func TestBenchAPIRefusesConflictingFlags(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "api", "--server-cpus", "0", "--url", "http://127.0.0.1:1", "--token", "x"},
		{"bench", "api", "--url", "http://127.0.0.1:1", "--token", "x", "--profile", "/tmp/p-"},
		{"bench", "ws", "--server-cpus", "0", "--url", "http://127.0.0.1:1", "--token", "x"},
		{"bench", "ws", "--url", "http://127.0.0.1:1", "--token", "x", "--profile", "/tmp/p-"},
	} {
		var stdout, stderr bytes.Buffer
		if code := run(context.Background(), args, &stdout, &stderr); code == 0 || !strings.Contains(stderr.String(), "bench "+args[1]+":") {
			t.Errorf("%v: exit %d, stderr %q", args, code, stderr.String())
		}
	}
}

// TestBenchAPIPinnedServer runs the benchmark as documented: the server in
// a process of its own on one core, the loader on another, the server's
// profiles written out. It checks the figures are there, never their
// values.
func TestBenchAPIPinnedServer(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("runs a server process; Linux only (taskset, /proc)")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("no taskset")
	}
	loader := "0"
	if runtime.NumCPU() > 1 {
		loader = "1"
	}
	bin := buildBinary(t)
	prefix := filepath.Join(t.TempDir(), "p-")
	out, err := exec.Command(bin, "bench", "api", "--server-cpus", "0", "--loader-cpus", loader,
		"--duration", "1s", "--conns", "2", "--profile", prefix).Output()
	if err != nil {
		t.Fatalf("bench api: %v\n%s", err, out)
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	for _, k := range []string{"orders_per_sec", "server_cpu_us_per_request", "loader_cpu_us_per_request"} {
		if v, ok := res[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v in %s", k, res[k], out)
		}
	}
	for _, name := range []string{"cpu", "mutex", "block"} {
		if st, err := os.Stat(prefix + name + ".pprof"); err != nil || st.Size() == 0 {
			t.Errorf("%s profile: %v", name, err)
		}
	}
}

// TestBenchWSServerProcess runs the fan-out benchmark as documented, the
// server in a process of its own: the figures are there, the server's CPU
// included, and the latency is said to be from the sequencer's stamp.
func TestBenchWSServerProcess(t *testing.T) {
	if testing.Short() || runtime.GOOS != "linux" {
		t.Skip("runs a server process; Linux only (taskset, /proc)")
	}
	if _, err := exec.LookPath("taskset"); err != nil {
		t.Skip("no taskset")
	}
	bin := buildBinary(t)
	out, err := exec.Command(bin, "bench", "ws", "--server-cpus", "0-"+strconv.Itoa(runtime.NumCPU()-1),
		"--subscribers", "5", "--duration", "1s", "--orders-per-sec", "40", "--loaders", "2").Output()
	if err != nil {
		t.Fatalf("bench ws: %v\n%s", err, out)
	}
	var res map[string]any
	if err := json.Unmarshal(out, &res); err != nil {
		t.Fatalf("%s: %v", out, err)
	}
	for _, k := range []string{"messages_per_sec", "server_cpu_us_per_message", "loader_cpu_us_per_message", "latency_samples", "trades"} {
		if v, ok := res[k].(float64); !ok || v <= 0 {
			t.Errorf("%s = %v in %s", k, res[k], out)
		}
	}
	if res["latency_from"] != "sequencer_stamp_ms" || res["mode"] != "url" || res["dropped_clients"] != 0.0 {
		t.Errorf("%s", out)
	}
}
