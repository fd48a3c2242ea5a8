package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"
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

// A server held to one CPU (taskset) says at start that it took a second
// P; with GOMAXPROCS set, it keeps the operator's.
func TestServeOnOneCPU(t *testing.T) {
	taskset, err := exec.LookPath("taskset")
	if err != nil || testing.Short() {
		t.Skip("needs taskset (util-linux) and a long run")
	}
	bin := buildBinary(t)
	for _, env := range []string{"", "1"} {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		dir := t.TempDir()
		cmd := exec.CommandContext(ctx, taskset, "-c", "0", bin, "serve", "--listen", "127.0.0.1:0", "--data", dir, "--mode", "production")
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
		buf := make([]byte, 4096)
		var out []byte
		for !bytes.Contains(out, []byte("serving on")) {
			n, err := stdout.Read(buf)
			if err != nil {
				t.Fatalf("GOMAXPROCS=%q: no start banner (%v); stderr:\n%s", env, err, stderr.String())
			}
			out = append(out, buf[:n]...)
		}
		cmd.Process.Kill()
		cmd.Wait()
		cancel()
		said := strings.Contains(stderr.String(), "GOMAXPROCS set to 2")
		if said != (env == "") {
			t.Errorf("GOMAXPROCS=%q: said it set 2: %v; stderr:\n%s", env, said, stderr.String())
		}
	}
}
