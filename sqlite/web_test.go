package sqlite_test

import (
	"context"
	"errors"
	"path/filepath"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/sqlite"
)

func webDB(t *testing.T) (*sqlite.DB, twinex.User) {
	t.Helper()
	db := open(t, filepath.Join(t.TempDir(), "twinex.db"))
	t.Cleanup(func() { db.Close() })
	u := twinex.User{Email: "ann@example.com", PasswordHash: "old", Created: 1}
	if _, err := db.CreateUser(context.Background(), &u); err != nil {
		t.Fatal(err)
	}
	return db, u
}

func TestWebSessions(t *testing.T) {
	ctx := context.Background()
	db, u := webDB(t)
	a := sqlite.WebSession{ID: "a", UserID: u.ID, Created: 10, Expires: 100, LastSeen: 10, IP: "192.0.2.1"}
	b := sqlite.WebSession{ID: "b", UserID: u.ID, Created: 20, Expires: 200, LastSeen: 20, IP: "192.0.2.2"}
	for _, s := range []sqlite.WebSession{a, b} {
		if err := db.CreateSession(ctx, s); err != nil {
			t.Fatal(err)
		}
	}
	if err := db.CreateSession(ctx, a); !errors.Is(err, twinex.ErrConflict) {
		t.Fatalf("duplicate session: %v, want ErrConflict", err)
	}
	got, err := db.Session(ctx, "a")
	if err != nil || got != a {
		t.Fatalf("Session = %+v, %v; want %+v", got, err, a)
	}
	if _, err := db.Session(ctx, "nope"); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("unknown session: %v", err)
	}
	if err := db.TouchSession(ctx, "a", 50); err != nil {
		t.Fatal(err)
	}
	if err := db.SetSessionMFA(ctx, "a", true); err != nil {
		t.Fatal(err)
	}
	if err := db.TouchSession(ctx, "nope", 50); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("touch unknown: %v", err)
	}
	list, err := db.Sessions(ctx, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(list) != 2 || list[0].ID != "a" || list[0].LastSeen != 50 || !list[0].MFA || list[1].ID != "b" {
		t.Fatalf("Sessions = %+v", list)
	}
	if err := db.DeleteUserSessions(ctx, u.ID, "b"); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "a"); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("a survived DeleteUserSessions: %v", err)
	}
	if _, err := db.Session(ctx, "b"); err != nil {
		t.Fatalf("b (kept) gone: %v", err)
	}
	if err := db.DeleteSession(ctx, "b"); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteSession(ctx, "b"); err != nil {
		t.Fatalf("deleting twice: %v", err)
	}
	if list, _ := db.Sessions(ctx, u.ID); len(list) != 0 {
		t.Fatalf("sessions left: %+v", list)
	}
}

func TestWebVerifyEmail(t *testing.T) {
	ctx := context.Background()
	db, u := webDB(t)
	if at, err := db.EmailVerified(ctx, u.ID); err != nil || at != 0 {
		t.Fatalf("EmailVerified before = %d, %v", at, err)
	}
	tok := sqlite.EmailToken{Hash: "h1", UserID: u.ID, Purpose: "verify", Created: 1, Expires: 100}
	if err := db.CreateEmailToken(ctx, tok); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateEmailToken(ctx, tok); !errors.Is(err, twinex.ErrConflict) {
		t.Fatalf("duplicate token: %v", err)
	}
	// A verify token cannot reset a password.
	if _, err := db.ResetPassword(ctx, "h1", "new", 10); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("reset with a verify token: %v", err)
	}
	// Expired.
	if _, err := db.VerifyEmail(ctx, "h1", 100); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("expired token: %v", err)
	}
	id, err := db.VerifyEmail(ctx, "h1", 10)
	if err != nil || id != u.ID {
		t.Fatalf("VerifyEmail = %d, %v", id, err)
	}
	if _, err := db.VerifyEmail(ctx, "h1", 11); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("second use: %v", err)
	}
	if at, err := db.EmailVerified(ctx, u.ID); err != nil || at != 10 {
		t.Fatalf("EmailVerified = %d, %v", at, err)
	}
	got, err := db.EmailToken(ctx, "h1")
	if err != nil || got.Used != 10 || got.Purpose != "verify" {
		t.Fatalf("EmailToken = %+v, %v", got, err)
	}
	// Marking again keeps the first time.
	if err := db.SetEmailVerified(ctx, u.ID, 99); err != nil {
		t.Fatal(err)
	}
	if at, _ := db.EmailVerified(ctx, u.ID); at != 10 {
		t.Fatalf("EmailVerified after SetEmailVerified = %d", at)
	}
}

func TestWebResetPassword(t *testing.T) {
	ctx := context.Background()
	db, u := webDB(t)
	for _, s := range []string{"s1", "s2"} {
		if err := db.CreateSession(ctx, sqlite.WebSession{ID: s, UserID: u.ID, Expires: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []string{"r1", "r2"} {
		if err := db.CreateEmailToken(ctx, sqlite.EmailToken{Hash: h, UserID: u.ID, Purpose: "reset", Expires: 100}); err != nil {
			t.Fatal(err)
		}
	}
	id, err := db.ResetPassword(ctx, "r1", "new-hash", 5)
	if err != nil || id != u.ID {
		t.Fatalf("ResetPassword = %d, %v", id, err)
	}
	got, err := db.User(ctx, u.ID)
	if err != nil || got.PasswordHash != "new-hash" {
		t.Fatalf("user after reset: %+v, %v", got, err)
	}
	if list, _ := db.Sessions(ctx, u.ID); len(list) != 0 {
		t.Fatalf("sessions survived a reset: %+v", list)
	}
	for _, h := range []string{"r1", "r2"} {
		if _, err := db.ResetPassword(ctx, h, "other", 6); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("token %s usable after a reset: %v", h, err)
		}
	}

	if err := db.CreateSession(ctx, sqlite.WebSession{ID: "keep", UserID: u.ID, Expires: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, sqlite.WebSession{ID: "drop", UserID: u.ID, Expires: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := db.ChangePassword(ctx, u.ID, "changed", "keep"); err != nil {
		t.Fatal(err)
	}
	if list, _ := db.Sessions(ctx, u.ID); len(list) != 1 || list[0].ID != "keep" {
		t.Fatalf("sessions after ChangePassword: %+v", list)
	}
	if err := db.ChangePassword(ctx, 9999, "x", ""); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("ChangePassword of no user: %v", err)
	}
}

func TestWebLoginAttempts(t *testing.T) {
	ctx := context.Background()
	db, _ := webDB(t)
	for _, a := range []sqlite.LoginAttempt{
		{Email: "Ann@Example.com", IP: "1.1.1.1", Time: 1},
		{Email: "ann@example.com", IP: "2.2.2.2", Time: 5, OK: true},
		{Email: "bob@example.com", IP: "1.1.1.1", Time: 6},
		{Email: "bob@example.com", IP: "3.3.3.3", Time: 7},
		{Email: "ann@example.com", IP: "1.1.1.1", Time: 8},
	} {
		if err := db.AddLoginAttempt(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	got, err := db.LoginAttempts(ctx, "ANN@example.com", "1.1.1.1", 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []sqlite.LoginAttempt{
		{Email: "ann@example.com", IP: "2.2.2.2", Time: 5, OK: true},
		{Email: "bob@example.com", IP: "1.1.1.1", Time: 6},
		{Email: "ann@example.com", IP: "1.1.1.1", Time: 8},
	}
	if len(got) != len(want) {
		t.Fatalf("LoginAttempts = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Fatalf("LoginAttempts[%d] = %+v, want %+v", i, got[i], want[i])
		}
	}
	if err := db.PruneWeb(ctx, 0, 7); err != nil {
		t.Fatal(err)
	}
	if got, _ := db.LoginAttempts(ctx, "bob@example.com", "x", 0); len(got) != 1 || got[0].Time != 7 {
		t.Fatalf("after prune: %+v", got)
	}
}

func TestWebAuditAndPrune(t *testing.T) {
	ctx := context.Background()
	db, u := webDB(t)
	for i, action := range []string{"signup", "login", "logout"} {
		if err := db.AddAudit(ctx, sqlite.AuditEvent{UserID: u.ID, Time: int64(i), IP: "192.0.2.1", Action: action}); err != nil {
			t.Fatal(err)
		}
	}
	log, err := db.AuditLog(ctx, u.ID, 2)
	if err != nil {
		t.Fatal(err)
	}
	if len(log) != 2 || log[0].Action != "logout" || log[1].Action != "login" || log[0].IP != "192.0.2.1" {
		t.Fatalf("AuditLog = %+v", log)
	}
	if err := db.CreateSession(ctx, sqlite.WebSession{ID: "old", UserID: u.ID, Expires: 10}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, sqlite.WebSession{ID: "new", UserID: u.ID, Expires: 30}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateEmailToken(ctx, sqlite.EmailToken{Hash: "t", UserID: u.ID, Purpose: "verify", Expires: 10}); err != nil {
		t.Fatal(err)
	}
	if err := db.PruneWeb(ctx, 20, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := db.Session(ctx, "old"); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("expired session kept: %v", err)
	}
	if _, err := db.Session(ctx, "new"); err != nil {
		t.Fatalf("live session pruned: %v", err)
	}
	if _, err := db.EmailToken(ctx, "t"); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("expired token kept: %v", err)
	}
	if log, _ := db.AuditLog(ctx, u.ID, 10); len(log) != 3 {
		t.Fatalf("audit log pruned: %+v", log)
	}
}
