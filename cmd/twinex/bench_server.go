package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"time"
)

// pinSelf pins every thread of this process to cpus (a taskset list such as
// "1" or "0-1"); threads made later inherit it from the thread that makes
// them. It needs taskset (util-linux).
func pinSelf(cpus string) error {
	out, err := exec.Command("taskset", "-a", "-p", "-c", cpus, strconv.Itoa(os.Getpid())).CombinedOutput()
	if err != nil {
		return fmt.Errorf("taskset -c %s: %v: %s", cpus, err, strings.TrimSpace(string(out)))
	}
	return nil
}

// benchServer is a `twinex serve` started by a benchmark in a process of
// its own, so that its CPU time can be told from the loader's.
type benchServer struct {
	URL, Token, Pprof string
	PID               int
	cmd               *exec.Cmd
	dir               string
}

// productionServe is the serve flags of bench api's server: production
// mode, the rate limits off.
var productionServe = []string{"--mode", "production", "--rate-public", "off", "--rate-private", "off"}

// startBenchServer starts `twinex serve` of the binary exe (this one when
// empty) with the flags serve on a temporary data directory, pinned to cpus
// with taskset (all cores when empty), with its profiles served when
// pprof is set, and waits until it answers /healthz.
func startBenchServer(ctx context.Context, exe, cpus string, serve []string, pprof bool, stderr *os.File) (*benchServer, error) {
	if exe == "" {
		var err error
		if exe, err = os.Executable(); err != nil {
			return nil, err
		}
	}
	dir, err := os.MkdirTemp("", "twinex-bench-server-")
	if err != nil {
		return nil, err
	}
	addr, err := freeAddr()
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args := append([]string{exe, "serve"}, serve...)
	args = append(args, "--data", filepath.Join(dir, "data"), "--listen", addr)
	s := &benchServer{URL: "http://" + addr, dir: dir}
	if pprof {
		paddr, err := freeAddr()
		if err != nil {
			os.RemoveAll(dir)
			return nil, err
		}
		args = append(args, "--pprof-listen", paddr)
		s.Pprof = "http://" + paddr
	}
	if cpus != "" {
		// taskset execs the server: the process id stays the server's.
		args = append([]string{"taskset", "-c", cpus}, args...)
	}
	s.cmd = exec.Command(args[0], args[1:]...)
	s.cmd.Stderr = stderr
	if err := s.cmd.Start(); err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	s.PID = s.cmd.Process.Pid
	deadline := time.Now().Add(30 * time.Second)
	for {
		resp, err := http.Get(s.URL + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			s.Close()
			return nil, errors.New("bench: the server did not answer /healthz within 30s")
		}
		time.Sleep(50 * time.Millisecond)
	}
	tok, err := os.ReadFile(filepath.Join(dir, "data", "admin.token"))
	if err != nil {
		s.Close()
		return nil, err
	}
	s.Token = strings.TrimSpace(string(tok))
	return s, nil
}

// Close stops the server (SIGINT, a clean shutdown) and removes its data.
func (s *benchServer) Close() error {
	s.cmd.Process.Signal(os.Interrupt)
	done := make(chan error, 1)
	go func() { done <- s.cmd.Wait() }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		s.cmd.Process.Kill()
		<-done
	}
	return os.RemoveAll(s.dir)
}

// freeAddr returns a loopback address with a port free at the time.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}
