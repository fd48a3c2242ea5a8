package app

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/twinex/twinex"
	adminapi "github.com/twinex/twinex/admin"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/fault"
	"github.com/twinex/twinex/scenario"
	"github.com/twinex/twinex/sim"
)

// scenarios plays one scenario at a time on the sandbox (admin scenario
// run, serve --scenario). A run outlives restores and resets: each step
// acts on the state current when it comes.
type scenarios struct {
	mu     sync.Mutex
	run    *scenarioRun // the current or last run
	cancel context.CancelFunc
	wg     sync.WaitGroup
}

// scenarioRun is one run's progress.
type scenarioRun struct {
	sc      *scenario.Scenario
	started time.Time
	applied int
	state   string // running, finished, stopped, failed
	err     string
}

// LoadScenario reads a scenario file, or a shipped example by name
// ("flash-crash", "halt-and-reopen", "slow-bleed") when no such file exists.
func LoadScenario(path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		if b, ok := scenario.Example(filepath.Base(path)); ok && filepath.Base(path) == path {
			return b, nil
		}
		return nil, fmt.Errorf("scenario %s: no such file, nor a shipped example (%v)", path, scenario.Examples())
	}
	return data, err
}

// RunScenario parses a scenario file and starts playing it, stopping the
// one running (api.ScenarioControls).
func (m *App) RunScenario(_ context.Context, file []byte) (adminapi.ScenarioStatus, error) {
	if m.Mode != Sandbox {
		return adminapi.ScenarioStatus{}, errors.New("scenarios run only in sandbox mode")
	}
	sc, err := scenario.Parse(bytes.NewReader(file), m.markets)
	if err != nil {
		return adminapi.ScenarioStatus{}, err
	}
	s := &m.scen
	s.mu.Lock()
	defer s.mu.Unlock()
	s.stop()
	ctx, cancel := context.WithCancel(context.Background())
	run := &scenarioRun{sc: sc, started: m.now(), state: "running"}
	s.run, s.cancel = run, cancel
	s.wg.Add(1)
	go func() {
		defer s.wg.Done()
		err := scenario.Play(ctx, sc, appTarget{m}, m.markets, m.now, time.After, func(n int) {
			s.mu.Lock()
			run.applied = n
			s.mu.Unlock()
		})
		s.mu.Lock()
		defer s.mu.Unlock()
		switch {
		case run.state == "stopped" || errors.Is(err, context.Canceled):
			run.state = "stopped"
		case err != nil:
			run.state, run.err = "failed", err.Error()
			m.Logger.Warn("scenario failed", "scenario", sc.Name, "err", err)
		default:
			run.state = "finished"
		}
		m.Logger.Info("scenario "+run.state, "scenario", sc.Name, "steps", run.applied)
	}()
	m.Logger.Info("scenario started", "scenario", sc.Name, "steps", len(sc.Steps), "seed", sc.Seed)
	return run.status(), nil
}

// ScenarioStatus describes the current or last run.
func (m *App) ScenarioStatus() adminapi.ScenarioStatus {
	s := &m.scen
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.run == nil {
		return adminapi.ScenarioStatus{State: "none", Examples: scenario.Examples()}
	}
	return s.run.status()
}

// StopScenario stops the running scenario; what its steps changed stays.
// It does not wait for the run's goroutine (a request calls it holding
// m.mu for reading, which a step in progress may be waiting for behind a
// restore); Close does.
func (m *App) StopScenario() adminapi.ScenarioStatus {
	s := &m.scen
	s.mu.Lock()
	s.stop()
	s.mu.Unlock()
	return m.ScenarioStatus()
}

// stop cancels the running scenario, if any. The caller holds s.mu.
func (s *scenarios) stop() {
	if s.cancel != nil {
		s.cancel()
		s.cancel = nil
		if s.run != nil && s.run.state == "running" {
			s.run.state = "stopped"
		}
	}
}

// status renders the run; the caller holds scenarios.mu.
func (r *scenarioRun) status() adminapi.ScenarioStatus {
	applied, seed, steps := r.applied, r.sc.Seed, len(r.sc.Steps)
	st := adminapi.ScenarioStatus{
		State: r.state, Name: r.sc.Name, Seed: &seed, Started: r.started.UTC().Format(time.RFC3339Nano),
		Steps: &steps, Applied: &applied, Length: r.sc.Length().String(), Error: r.err,
	}
	if r.applied < len(r.sc.Steps) && r.state == "running" {
		st.NextAt = r.started.Add(time.Duration(r.sc.Steps[r.applied].At)).UTC().Format(time.RFC3339Nano)
	}
	return st
}

// appTarget is the scenario.Target of a running sandbox: each action takes
// the state current at that moment, as a request does.
type appTarget struct{ m *App }

func (t appTarget) runner() (*sim.Runner, func(), error) {
	t.m.mu.RLock()
	if t.m.st == nil || t.m.st.sim == nil {
		t.m.mu.RUnlock()
		return nil, nil, errors.New("the simulator is off (serve --sim=false)")
	}
	return t.m.st.sim.runner, t.m.mu.RUnlock, nil
}

func (t appTarget) Reseed(seed uint64) {
	if r, unlock, err := t.runner(); err == nil {
		defer unlock()
		r.Reseed(seed)
	}
}

func (t appTarget) Reference(symbol string) int64 {
	r, unlock, err := t.runner()
	if err != nil {
		return 0
	}
	defer unlock()
	return r.Reference(symbol)
}

func (t appTarget) SetPrice(symbol string, price int64) error {
	r, unlock, err := t.runner()
	if err != nil {
		return err
	}
	defer unlock()
	return r.SetPrice(symbol, price)
}

func (t appTarget) Adjust(symbol string, a sim.Adjustment) error {
	r, unlock, err := t.runner()
	if err != nil {
		return err
	}
	defer unlock()
	return r.Adjust(symbol, a)
}

func (t appTarget) SetStatus(ctx context.Context, symbol string, status twinex.MarketStatus) error {
	t.m.mu.RLock()
	defer t.m.mu.RUnlock()
	if t.m.st == nil {
		return errors.New("the exchange is being replaced")
	}
	res, err := t.m.st.core.Do(ctx, engine.Command{Kind: engine.SetMarketStatus, Market: t.m.markets.Index(symbol), Status: status})
	if err == nil {
		err = res.Err
	}
	return err
}

func (t appTarget) AddFault(r fault.Rule) error {
	t.m.mu.RLock()
	defer t.m.mu.RUnlock()
	if t.m.st == nil {
		return errors.New("the exchange is being replaced")
	}
	_, err := t.m.st.srv.AddFault(r) // as the admin API does: drop_sockets acts
	return err
}
