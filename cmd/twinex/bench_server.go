package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
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

// benchTarget is the server a load benchmark (bench api, bench ws) runs
// against: one at --url, or one it starts pinned to --server-cpus.
type benchTarget struct {
	URL, Token, Pprof, ProfilePrefix  string
	PID                               int
	serverCPUs, loaderCPUs, serverBin string
}

// flags adds the target's flags to fs: cpuFigure names the server CPU
// figure --pid adds, over says over what --profile profiles, cpusExample
// is --server-cpus's example and loaderHelp --loader-cpus's help.
func (t *benchTarget) flags(fs *flag.FlagSet, cpuFigure, over, cpusExample, loaderHelp string) {
	fs.StringVar(&t.URL, "url", "", "a running server to target instead of starting one")
	fs.StringVar(&t.Token, "token", "", "the target's admin token (with --url; default TWINEX_ADMIN_TOKEN, read after parsing so that no usage text shows it)")
	fs.IntVar(&t.PID, "pid", 0, "the target server's process id (with --url): adds "+cpuFigure)
	fs.StringVar(&t.Pprof, "pprof", "", "the target server's --pprof-listen as http://ADDR (with --url and --profile)")
	fs.StringVar(&t.ProfilePrefix, "profile", "", "write the server's cpu, mutex and block profiles over "+over+" to files with this prefix")
	fs.StringVar(&t.serverCPUs, "server-cpus", "", "start the server in a process of its own pinned to these cores (a taskset list, e.g. "+cpusExample+")")
	fs.StringVar(&t.loaderCPUs, "loader-cpus", "", loaderHelp)
	fs.StringVar(&t.serverBin, "server-bin", "", "with --server-cpus: the twinex binary whose server to start (default: this one), to compare two builds under one loader")
}

// open pins this process, starts the server with the serve flags when
// --server-cpus asks for one, and checks that --profile can be served. The
// returned function stops a started server.
func (t *benchTarget) open(ctx context.Context, name string, serve []string) (func(), error) {
	t.Token = cmp.Or(t.Token, os.Getenv("TWINEX_ADMIN_TOKEN"))
	if t.loaderCPUs != "" {
		if err := pinSelf(t.loaderCPUs); err != nil {
			return nil, err
		}
	}
	stop := func() {}
	if t.serverCPUs != "" {
		if t.URL != "" {
			return nil, errors.New(name + ": --server-cpus starts a server; it does not go with --url")
		}
		srv, err := startBenchServer(ctx, t.serverBin, t.serverCPUs, serve, t.ProfilePrefix != "", os.Stderr)
		if err != nil {
			return nil, err
		}
		stop = func() { srv.Close() }
		t.URL, t.Token, t.PID, t.Pprof = srv.URL, srv.Token, srv.PID, srv.Pprof
	}
	if t.ProfilePrefix != "" && t.Pprof == "" {
		stop()
		return nil, errors.New(name + ": --profile needs the server's profiles: --server-cpus, or --url with --pprof")
	}
	return stop, nil
}
