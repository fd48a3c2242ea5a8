package api

import (
	"net/http"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
	"github.com/twinex/twinex/core"
)

// Market status, set by the operator: which orders a market accepts
// (Gemini's symbol status). The rule lives in twinex.MarketStatus and the
// engine applies it; these endpoints only send the command.

func (s *Server) routeMarkets() {
	s.mux.Handle("GET /admin/v1/markets", s.admin(s.adminMarkets))
	s.mux.Handle("POST /admin/v1/markets/{symbol}/status", s.admin(s.adminSetMarketStatus))
}

// adminMarkets lists every market with its current status.
func (s *Server) adminMarkets(w http.ResponseWriter, r *http.Request) error {
	out := []admin.MarketStatus{}
	for i, m := range s.Core.Markets().List {
		out = append(out, admin.MarketStatus{Symbol: m.Symbol, Status: string(s.Core.Snapshot(i).Status)})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}

// adminSetMarketStatus sets a market's status: {"status": "cancel_only"}.
// Errors: InvalidSymbol, InvalidJson (an unknown status).
func (s *Server) adminSetMarketStatus(w http.ResponseWriter, r *http.Request) error {
	ms := s.Core.Markets()
	i := ms.Index(r.PathValue("symbol"))
	if i < 0 {
		return twinex.Errorf(twinex.InvalidSymbol, "Supplied value %q is not a valid symbol", r.PathValue("symbol"))
	}
	var req struct {
		Status twinex.MarketStatus `json:"status"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	if _, err := s.do(r.Context(), core.Command{Kind: core.SetMarketStatus, Market: i, Status: req.Status}); err != nil {
		return err
	}
	s.Logger.Info("market status set", "market", ms.List[i].Symbol, "status", req.Status)
	writeJSON(w, http.StatusOK, admin.MarketStatus{Symbol: ms.List[i].Symbol, Status: string(req.Status)})
	return nil
}
