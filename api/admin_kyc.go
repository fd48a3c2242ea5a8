package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/admin"
)

// SubmissionChanged is Twinex's own reason for an identity decision on a
// submission that is no longer the pending one.
const SubmissionChanged = "SubmissionChanged"

func (s *Server) routeKYC() {
	s.mux.Handle("POST /admin/v1/kyc", s.admin(s.adminReviewIdentity))
	s.mux.Handle("GET /admin/v1/kyc/pending", s.admin(s.adminPendingIdentities))
}

// adminReviewIdentity approves or rejects a user's identity.
func (s *Server) adminReviewIdentity(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Email    string `json:"email"`
		Decision string `json:"decision"` // approve or reject
		Reason   string `json:"reason"`
		// Submitted, when set, names the submission decided (its
		// submitted_ns from the pending list): a newer one is not decided
		// unseen.
		Submitted int64 `json:"submitted_ns"`
	}
	if err := decodeBody(r, &req); err != nil {
		return err
	}
	var status twinex.IdentityStatus
	switch req.Decision {
	case "approve":
		status = twinex.IdentityVerified
	case "reject":
		status = twinex.IdentityRejected
		if strings.TrimSpace(req.Reason) == "" {
			return twinex.Errorf(twinex.MissingPayloadKey, "a rejection needs a reason the user will see")
		}
	default:
		return twinex.Errorf(twinex.InvalidJson, "decision must be approve or reject")
	}
	if len(req.Reason) > 500 {
		return twinex.Errorf(twinex.InvalidJson, "the reason must have at most 500 characters")
	}
	u, err := s.adminUser(r, req.Email)
	if err != nil {
		return err
	}
	if s.Identities == nil {
		return errors.New("api: Server.Identities is not set")
	}
	if req.Submitted != 0 {
		err = s.Identities.DecideSubmission(r.Context(), u.ID, req.Submitted, status, req.Reason, s.now().UnixNano())
		if errors.Is(err, twinex.ErrConflict) {
			return twinex.Errorf(SubmissionChanged, "The user's submission is not the pending one sent at %d: it was replaced or decided; list the pending submissions again", req.Submitted)
		}
	} else {
		err = s.Identities.ReviewIdentity(r.Context(), u.ID, status, req.Reason, s.now().UnixNano())
	}
	if err != nil {
		return err
	}
	s.Logger.Info("identity reviewed", "user", u.ID, "status", status)
	writeJSON(w, http.StatusOK, admin.IdentityReview{ID: u.ID, Email: u.Email, Identity: string(status), Reason: req.Reason})
	return nil
}

func (s *Server) adminPendingIdentities(w http.ResponseWriter, r *http.Request) error {
	if s.Identities == nil {
		return errors.New("api: Server.Identities is not set")
	}
	list, err := s.Identities.PendingIdentities(r.Context(), 100)
	if err != nil {
		return err
	}
	out := []admin.PendingIdentity{}
	for _, x := range list {
		u, err := s.Accounts.User(r.Context(), x.UserID)
		if err != nil {
			return err
		}
		out = append(out, admin.PendingIdentity{Email: u.Email, LegalName: x.LegalName, BirthDate: x.BirthDate,
			Country: x.Country, Address: x.Address, Submitted: time.Unix(0, x.Submitted).UTC().Format(time.RFC3339),
			SubmittedNs: x.Submitted})
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
