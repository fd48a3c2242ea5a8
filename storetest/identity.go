package storetest

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/twinex/twinex"
)

// IdentityOpener opens a store that is both the account and the identity
// store; the suite closes it through the returned function.
type IdentityOpener func(t *testing.T, dir string) (twinex.AccountStore, twinex.IdentityStore, func())

// RunIdentity is the contract suite of twinex.IdentityStore.
func RunIdentity(t *testing.T, open IdentityOpener) { // long: one contract suite: a submission's life, step by step, on one store
	ctx := context.Background()
	accts, ids, closeFn := open(t, t.TempDir())
	defer closeFn()
	u := twinex.User{Email: "kyc@example.com"}
	if _, err := accts.CreateUser(ctx, &u); err != nil {
		t.Fatal(err)
	}
	if _, err := ids.Identity(ctx, u.ID); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("identity before a submission: %v", err)
	}
	sub := twinex.IdentitySubmission{UserID: u.ID, LegalName: "Ada Lovelace", BirthDate: "1815-12-10", Country: "GB", Address: "12 St James's Square, London", Submitted: 5}
	if err := ids.SubmitIdentity(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if got, _ := accts.User(ctx, u.ID); got.Identity != twinex.IdentityPending {
		t.Fatalf("status after submitting: %q", got.Identity)
	}
	pending, err := ids.PendingIdentities(ctx, 10)
	if err != nil || len(pending) != 1 || pending[0].LegalName != "Ada Lovelace" || pending[0].Status != twinex.IdentityPending {
		t.Fatalf("pending %+v %v", pending, err)
	}
	if err := ids.ReviewIdentity(ctx, u.ID, twinex.IdentityRejected, "the address is incomplete", 9); err != nil {
		t.Fatal(err)
	}
	got, err := ids.Identity(ctx, u.ID)
	if err != nil || got.Status != twinex.IdentityRejected || got.Reason != "the address is incomplete" || got.Reviewed != 9 {
		t.Fatalf("after rejection %+v %v", got, err)
	}
	if u2, _ := accts.User(ctx, u.ID); u2.Identity != twinex.IdentityRejected {
		t.Fatalf("user status after rejection: %q", u2.Identity)
	}
	// Resubmitting clears the decision.
	sub.Address, sub.Submitted = "12 St James's Square, London SW1Y 4JH", 10
	if err := ids.SubmitIdentity(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if got, _ := ids.Identity(ctx, u.ID); got.Status != twinex.IdentityPending || got.Reason != "" || got.Reviewed != 0 {
		t.Fatalf("after resubmitting %+v", got)
	}
	if err := ids.ReviewIdentity(ctx, u.ID, twinex.IdentityVerified, "", 11); err != nil {
		t.Fatal(err)
	}
	if pending, _ := ids.PendingIdentities(ctx, 10); len(pending) != 0 {
		t.Fatalf("pending after approval: %+v", pending)
	}
	if err := ids.ReviewIdentity(ctx, u.ID, twinex.IdentityPending, "", 12); err == nil {
		t.Fatal("pending accepted as a decision")
	}
	if err := ids.ReviewIdentity(ctx, 999999, twinex.IdentityVerified, "", 12); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("review of a missing user: %v", err)
	}
	if err := ids.SubmitIdentity(ctx, twinex.IdentitySubmission{UserID: 999999}); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("submission of a missing user: %v", err)
	}

	// A decision names the submission it was made on.
	sub.Submitted = 20
	if err := ids.SubmitIdentity(ctx, sub); err != nil {
		t.Fatal(err)
	}
	sub.Submitted = 21 // resubmitted while the reviewer looked at 20
	if err := ids.SubmitIdentity(ctx, sub); err != nil {
		t.Fatal(err)
	}
	if err := ids.DecideSubmission(ctx, u.ID, 20, twinex.IdentityVerified, "", 22); !errors.Is(err, twinex.ErrConflict) {
		t.Fatalf("decision on a replaced submission: %v", err)
	}
	if got, _ := accts.User(ctx, u.ID); got.Identity != twinex.IdentityPending {
		t.Fatalf("status after a refused decision: %q", got.Identity)
	}
	if err := ids.DecideSubmission(ctx, u.ID, 21, twinex.IdentityRejected, "blurry", 23); err != nil {
		t.Fatal(err)
	}
	if got, _ := ids.Identity(ctx, u.ID); got.Status != twinex.IdentityRejected || got.Reason != "blurry" || got.Reviewed != 23 {
		t.Fatalf("after the decision %+v", got)
	}
	if got, _ := accts.User(ctx, u.ID); got.Identity != twinex.IdentityRejected {
		t.Fatalf("user status after the decision: %q", got.Identity)
	}
	if err := ids.DecideSubmission(ctx, u.ID, 21, twinex.IdentityVerified, "", 24); !errors.Is(err, twinex.ErrConflict) {
		t.Fatalf("deciding twice: %v", err)
	}

	// Two reviewers deciding one submission at once: one decision stands,
	// and the user's status is that decision.
	sub.Submitted = 30
	if err := ids.SubmitIdentity(ctx, sub); err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var decided []twinex.IdentityStatus
	n := 0
	won := race(t, 8, func() (bool, error) {
		mu.Lock()
		n++
		status := twinex.IdentityVerified
		if n%2 == 0 {
			status = twinex.IdentityRejected
		}
		mu.Unlock()
		err := ids.DecideSubmission(ctx, u.ID, 30, status, "", 31)
		if errors.Is(err, twinex.ErrConflict) {
			return false, nil
		}
		if err == nil {
			mu.Lock()
			decided = append(decided, status)
			mu.Unlock()
		}
		return err == nil, err
	})
	if won != 1 {
		t.Fatalf("one submission decided %d times", won)
	}
	if got, _ := ids.Identity(ctx, u.ID); got.Status != decided[0] {
		t.Fatalf("submission %q after the decision %q", got.Status, decided[0])
	}
	if got, _ := accts.User(ctx, u.ID); got.Identity != decided[0] {
		t.Fatalf("user %q after the decision %q", got.Identity, decided[0])
	}
}
