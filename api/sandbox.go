package api

import (
	"context"
	"net/http"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
)

// SandboxControls are the sandbox's whole-state operations, provided by the
// application; nil in production, where their endpoints do not exist.
type SandboxControls interface {
	// Save saves the whole state under name; Restore replaces the state
	// with a saved one; Reset returns to a clean state.
	Save(ctx context.Context, name string) error
	Restore(ctx context.Context, name string) error
	Reset(ctx context.Context) error
	// Snapshots lists the saved names.
	Snapshots() ([]string, error)
	// SetPrice jumps a market's simulated reference price; PauseSim and
	// ResumeSim stop and restart the simulator; SimStatus describes it.
	SetPrice(symbol, price string) error
	PauseSim() error
	ResumeSim() error
	SimStatus() admin.SimStatus
}

func (s *Server) routeSandbox() {
	s.mux.Handle("POST /admin/v1/sandbox/save", s.sandbox(s.sandboxSave))
	s.mux.Handle("POST /admin/v1/sandbox/restore", s.sandbox(s.sandboxRestore))
	s.mux.Handle("POST /admin/v1/sandbox/reset", s.sandbox(s.sandboxReset))
	s.mux.Handle("POST /admin/v1/sandbox/price", s.sandbox(s.sandboxPrice))
	s.mux.Handle("POST /admin/v1/sandbox/sim/pause", s.sandbox(s.simControl(func() error { return s.Sandbox.PauseSim() })))
	s.mux.Handle("POST /admin/v1/sandbox/sim/resume", s.sandbox(s.simControl(func() error { return s.Sandbox.ResumeSim() })))
	s.mux.Handle("GET /admin/v1/sandbox/sim", s.sandbox(s.simStatus))
	s.mux.Handle("GET /admin/v1/sandbox/snapshots", s.sandbox(s.sandboxSnapshots))
}

func (s *Server) sandboxSave(w http.ResponseWriter, r *http.Request) error {
	name, err := snapshotName(r)
	if err != nil {
		return err
	}
	if err := s.Sandbox.Save(r.Context(), name); err != nil {
		return sandboxError(err)
	}
	writeJSON(w, http.StatusOK, admin.SandboxResult{OK: true, Saved: name})
	return nil
}

func (s *Server) sandboxRestore(w http.ResponseWriter, r *http.Request) error {
	name, err := snapshotName(r)
	if err != nil {
		return err
	}
	if err := s.Sandbox.Restore(context.WithoutCancel(r.Context()), name); err != nil {
		return sandboxError(err)
	}
	writeJSON(w, http.StatusOK, admin.SandboxResult{OK: true, Restored: name})
	return nil
}

func (s *Server) sandboxReset(w http.ResponseWriter, r *http.Request) error {
	if err := s.Sandbox.Reset(context.WithoutCancel(r.Context())); err != nil {
		return sandboxError(err)
	}
	writeJSON(w, http.StatusOK, admin.SandboxResult{OK: true, Reset: true})
	return nil
}

func (s *Server) sandboxPrice(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Symbol string         `json:"symbol"`
		Price  requestDecimal `json:"price"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if err := s.Sandbox.SetPrice(req.Symbol, req.Price.String()); err != nil {
		return sandboxError(err)
	}
	writeJSON(w, http.StatusOK, s.Sandbox.SimStatus())
	return nil
}

// simControl is the handler of an action on the simulator (pause,
// resume), which answers with the simulator's status.
func (s *Server) simControl(action func() error) adminHandler {
	return func(w http.ResponseWriter, r *http.Request) error {
		if err := action(); err != nil {
			return sandboxError(err)
		}
		writeJSON(w, http.StatusOK, s.Sandbox.SimStatus())
		return nil
	}
}

func (s *Server) simStatus(w http.ResponseWriter, r *http.Request) error {
	writeJSON(w, http.StatusOK, s.Sandbox.SimStatus())
	return nil
}

func (s *Server) sandboxSnapshots(w http.ResponseWriter, r *http.Request) error {
	names, err := s.Sandbox.Snapshots()
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, admin.Snapshots{Snapshots: names})
	return nil
}

// sandbox wraps an admin handler that exists only in the sandbox.
func (s *Server) sandbox(h adminHandler) http.Handler {
	return s.admin(func(w http.ResponseWriter, r *http.Request) error {
		if s.Sandbox == nil {
			return twinex.Errorf(twinex.EndpointNotFound, "API entry point `%s` not found (sandbox controls do not exist in production mode)", r.URL.Path)
		}
		return h(w, r)
	})
}

func snapshotName(r *http.Request) (string, error) {
	var req struct {
		Name string `json:"name"`
	}
	if err := decodeBody(r, &req); err != nil {
		return "", err
	}
	if req.Name == "" {
		return "", twinex.Errorf(twinex.MissingName, "name is required")
	}
	return req.Name, nil
}

// sandboxError shows the application's errors, which describe the request
// (bad or unknown names), as 400s; their text is safe to show.
func sandboxError(err error) error {
	if _, ok := err.(*twinex.Error); ok {
		return err
	}
	return &twinex.Error{Reason: twinex.InvalidJson, Message: err.Error(), Err: err}
}
