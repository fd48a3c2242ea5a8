//go:build linux

package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

func TestSpareProcs(t *testing.T) {
	for _, tt := range []struct {
		env   string
		procs int
		want  int
	}{
		{"", 1, 2}, // one CPU: a second P
		{"", 2, 0},
		{"", 8, 0},
		{"1", 1, 0}, // the operator's choice stands
		{"4", 1, 0},
	} {
		if got := spareProcs(tt.env, tt.procs); got != tt.want {
			t.Errorf("spareProcs(%q, %d) = %d, want %d", tt.env, tt.procs, got, tt.want)
		}
	}
}

// A server held to one CPU (taskset, on one of the CPUs this test may use)
// says at start that it took a second P; with GOMAXPROCS set, it keeps the
// operator's.
func TestServeOnOneCPU(t *testing.T) {
	taskset, err := exec.LookPath("taskset")
	if err != nil || testing.Short() {
		t.Skip("needs taskset (util-linux) and a long run")
	}
	var set unix.CPUSet
	if err := unix.SchedGetaffinity(0, &set); err != nil {
		t.Skipf("no CPU affinity here: %v", err)
	}
	cpu := -1
	for i := 0; i < 1024 && cpu < 0; i++ {
		if set.IsSet(i) {
			cpu = i
		}
	}
	bin := buildBinary(t)
	for _, env := range []string{"", "1"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		cmd := exec.CommandContext(ctx, taskset, "-c", strconv.Itoa(cpu), bin, "serve", "--listen", "127.0.0.1:0",
			"--data", t.TempDir(), "--mode", "production")
		cmd.Env = append(os.Environ(), "GOMAXPROCS="+env)
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		stop := func() string { // the server's stderr, once it has exited
			cmd.Process.Kill()
			cmd.Wait()
			cancel()
			return stderr.String()
		}
		buf := make([]byte, 4096)
		var out []byte
		for !bytes.Contains(out, []byte("serving on")) {
			n, err := stdout.Read(buf)
			if err != nil {
				t.Fatalf("GOMAXPROCS=%q: no start banner (%v); stderr:\n%s", env, err, stop())
			}
			out = append(out, buf[:n]...)
		}
		logged := stop()
		if said := strings.Contains(logged, "GOMAXPROCS set to 2"); said != (env == "") {
			t.Errorf("GOMAXPROCS=%q: said it set 2: %v; stderr:\n%s", env, said, logged)
		}
	}
}
