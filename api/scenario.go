package api

import (
	"context"
	"io"
	"net/http"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
)

// ScenarioControls run scripted market scenarios (package scenario) in a
// sandbox; nil in production, where their endpoints do not exist.
type ScenarioControls interface {
	// RunScenario parses a scenario file and starts playing it, stopping
	// one already running; it returns the new run's status.
	RunScenario(ctx context.Context, file []byte) (admin.ScenarioStatus, error)
	// ScenarioStatus describes the current or last run.
	ScenarioStatus() admin.ScenarioStatus
	// StopScenario stops the running scenario (what it changed stays).
	StopScenario() admin.ScenarioStatus
}

func (s *Server) routeScenario() {
	s.mux.Handle("POST /admin/v1/sandbox/scenario", s.scenario(s.scenarioRun))
	s.mux.Handle("GET /admin/v1/sandbox/scenario", s.scenario(s.scenarioStatus))
	s.mux.Handle("DELETE /admin/v1/sandbox/scenario", s.scenario(s.scenarioStop))
}

func (s *Server) scenarioRun(w http.ResponseWriter, r *http.Request) error {
	data, err := io.ReadAll(r.Body)
	if err != nil {
		return twinex.Errorf(twinex.InvalidJson, "Could not read the scenario")
	}
	st, err := s.Scenarios.RunScenario(context.WithoutCancel(r.Context()), data)
	if err != nil {
		return sandboxError(err)
	}
	writeJSON(w, http.StatusOK, st)
	return nil
}

func (s *Server) scenarioStatus(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.Scenarios.ScenarioStatus())
	return nil
}

func (s *Server) scenarioStop(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.Scenarios.StopScenario())
	return nil
}

// scenario wraps an admin handler that exists only in the sandbox.
func (s *Server) scenario(h adminHandler) http.Handler {
	return s.admin(func(w http.ResponseWriter, r *http.Request) error {
		if s.Scenarios == nil {
			return twinex.Errorf(twinex.EndpointNotFound, "API entry point `%s` not found (scenarios run only in sandbox mode)", r.URL.Path)
		}
		return h(w, r)
	})
}
