package twinex

import "context"

// IdentitySubmission is what a user submits for identity verification, and
// the operator's decision on it.
type IdentitySubmission struct {
	UserID    int64
	LegalName string
	BirthDate string // YYYY-MM-DD
	Country   string // ISO 3166-1 alpha-2, e.g. "US"
	Address   string
	Submitted int64 // Unix ns
	Status    IdentityStatus
	Reason    string // why it was rejected
	Reviewed  int64  // Unix ns; 0 while pending
}

// IdentityStore keeps identity submissions. The sqlite store implements
// it.
type IdentityStore interface {
	// SubmitIdentity records a submission (replacing an earlier one) and
	// sets the user's status to pending.
	SubmitIdentity(ctx context.Context, s IdentitySubmission) error
	// Identity returns a user's submission, or ErrNotFound.
	Identity(ctx context.Context, userID int64) (IdentitySubmission, error)
	// ReviewIdentity records the operator's decision (IdentityVerified or
	// IdentityRejected, with a reason) on the user and the submission. A
	// user without a submission may still be approved (provisioning).
	ReviewIdentity(ctx context.Context, userID int64, status IdentityStatus, reason string, now int64) error
	// DecideSubmission is ReviewIdentity for the one submission the
	// reviewer saw, the user's pending one sent at submitted: when the user
	// has resubmitted since, or it was decided already, it changes nothing
	// and returns ErrConflict.
	DecideSubmission(ctx context.Context, userID, submitted int64, status IdentityStatus, reason string, now int64) error
	// PendingIdentities lists pending submissions, oldest first.
	PendingIdentities(ctx context.Context, limit int) ([]IdentitySubmission, error)
}
