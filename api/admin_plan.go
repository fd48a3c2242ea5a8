package api

import (
	"errors"
	"net/http"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
)

func (s *Server) routePlans() {
	s.mux.Handle("POST /admin/v1/plan", s.admin(s.adminSetPlan))
	s.mux.Handle("GET /admin/v1/plan", s.admin(s.adminGetPlan))
}

// planJSON describes a user's plan.
func planJSON(u twinex.User, p twinex.Plan) admin.Plan {
	return admin.Plan{Email: u.Email, Plan: p.Name, DailyRequestsPerKey: p.DailyRequests}
}

// adminSetPlan assigns a plan to a user: {"email": E, "plan": "pro"}.
func (s *Server) adminSetPlan(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email string `json:"email"`
		Plan  string `json:"plan"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if s.Quota == nil {
		return errors.New("api: Server.Quota is not set")
	}
	u, err := s.adminUser(r, req.Email)
	if err != nil {
		return err
	}
	if _, ok := twinex.PlanNamed(req.Plan); !ok {
		return twinex.Errorf(twinex.InvalidJson, "plan must be one of %s", planNames())
	}
	p, err := s.Quota.SetPlan(r.Context(), u.ID, req.Plan)
	if err != nil {
		return err
	}
	s.Logger.Info("plan assigned", "user", u.ID, "plan", p.Name)
	writeJSON(w, http.StatusOK, planJSON(u, p))
	return nil
}

// adminGetPlan shows a user's plan: ?email=E.
func (s *Server) adminGetPlan(w http.ResponseWriter, r *http.Request) error {
	if s.Quota == nil {
		return errors.New("api: Server.Quota is not set")
	}
	u, err := s.adminUser(r, r.URL.Query().Get("email"))
	if err != nil {
		return err
	}
	p, err := s.Quota.Plan(r.Context(), u.ID)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, planJSON(u, p))
	return nil
}

func planNames() string {
	out := ""
	for i, p := range twinex.Plans {
		if i > 0 {
			out += ", "
		}
		out += p.Name
	}
	return out
}
