package storetest

import (
	"context"
	"errors"
	"testing"

	"github.com/twinex/twinex"
)

// DashboardStores is a store that keeps users and the dashboard's sign-in
// state.
type DashboardStores interface {
	twinex.AccountStore
	twinex.DashboardStore
}

// DashboardOpener opens a store whose data lives in dir; the suite closes
// it through the returned function.
type DashboardOpener func(t *testing.T, dir string) (DashboardStores, func())

// RunDashboard is the contract suite of twinex.DashboardStore. Each subtest
// gets an empty store holding one user.
func RunDashboard(t *testing.T, open DashboardOpener) {
	tests := []struct {
		name string
		fn   func(*testing.T, DashboardStores, twinex.User)
	}{
		{"Sessions", testDashboardSessions},
		{"VerifyEmail", testDashboardVerifyEmail},
		{"ResetPassword", testDashboardResetPassword},
		{"LoginAttempts", testDashboardLoginAttempts},
		{"AuditAndPrune", testDashboardAuditAndPrune},
		{"HasAudit", testDashboardHasAudit},
		{"MFA", testDashboardMFA},
		{"TokenUsedOnceUnderRace", testDashboardTokenRace},
		{"MFACodeUsedOnceUnderRace", testDashboardMFARace},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, closeFn := open(t, t.TempDir())
			t.Cleanup(closeFn)
			u := twinex.User{Email: "ann@example.com", PasswordHash: "old", Created: 1}
			if _, err := db.CreateUser(context.Background(), &u); err != nil {
				t.Fatal(err)
			}
			tt.fn(t, db, u)
		})
	}
}

func testDashboardSessions(t *testing.T, db DashboardStores, u twinex.User) {
	ctx := context.Background()
	a := twinex.Session{ID: "a", UserID: u.ID, Created: 10, Expires: 100, LastSeen: 10, IP: "192.0.2.1"}
	b := twinex.Session{ID: "b", UserID: u.ID, Created: 20, Expires: 200, LastSeen: 20, IP: "192.0.2.2"}
	for _, s := range []twinex.Session{a, b} {
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

func testDashboardVerifyEmail(t *testing.T, db DashboardStores, u twinex.User) {
	ctx := context.Background()
	if at, err := db.EmailVerified(ctx, u.ID); err != nil || at != 0 {
		t.Fatalf("EmailVerified before = %d, %v", at, err)
	}
	tok := twinex.EmailToken{Hash: "h1", UserID: u.ID, Purpose: "verify", Created: 1, Expires: 100}
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

func testDashboardResetPassword(t *testing.T, db DashboardStores, u twinex.User) {
	ctx := context.Background()
	for _, s := range []string{"s1", "s2"} {
		if err := db.CreateSession(ctx, twinex.Session{ID: s, UserID: u.ID, Expires: 1000}); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []string{"r1", "r2"} {
		if err := db.CreateEmailToken(ctx, twinex.EmailToken{Hash: h, UserID: u.ID, Purpose: "reset", Expires: 100}); err != nil {
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

	if err := db.CreateSession(ctx, twinex.Session{ID: "keep", UserID: u.ID, Expires: 1000}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, twinex.Session{ID: "drop", UserID: u.ID, Expires: 1000}); err != nil {
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

func testDashboardLoginAttempts(t *testing.T, db DashboardStores, u twinex.User) {
	ctx := context.Background()
	for _, a := range []twinex.LoginAttempt{
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
	want := []twinex.LoginAttempt{
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

func testDashboardAuditAndPrune(t *testing.T, db DashboardStores, u twinex.User) {
	ctx := context.Background()
	for i, action := range []string{"signup", "login", "logout"} {
		if err := db.AddAudit(ctx, twinex.AuditEvent{UserID: u.ID, Time: int64(i), IP: "192.0.2.1", Action: action}); err != nil {
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
	if err := db.CreateSession(ctx, twinex.Session{ID: "old", UserID: u.ID, Expires: 10}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateSession(ctx, twinex.Session{ID: "new", UserID: u.ID, Expires: 30}); err != nil {
		t.Fatal(err)
	}
	if err := db.CreateEmailToken(ctx, twinex.EmailToken{Hash: "t", UserID: u.ID, Purpose: "verify", Expires: 10}); err != nil {
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

func testDashboardHasAudit(t *testing.T, db DashboardStores, u twinex.User) {
	ctx := context.Background()
	if has, err := db.HasAudit(ctx, u.ID, "login", ""); err != nil || has {
		t.Fatalf("HasAudit on an empty log = %v, %v", has, err)
	}
	if err := db.AddAudit(ctx, twinex.AuditEvent{UserID: u.ID, Time: 1, IP: "192.0.2.1", Action: "login", Detail: "password"}); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		user       int64
		action, ip string
		want       bool
	}{
		{u.ID, "login", "", true},
		{u.ID, "login", "192.0.2.1", true},
		{u.ID, "login", "192.0.2.2", false},
		{u.ID, "logout", "", false},
		{u.ID + 1, "login", "", false},
	} {
		if has, err := db.HasAudit(ctx, c.user, c.action, c.ip); err != nil || has != c.want {
			t.Errorf("HasAudit(%d, %q, %q) = %v, %v; want %v", c.user, c.action, c.ip, has, err, c.want)
		}
	}
	if log, err := db.AuditLog(ctx, u.ID, 10); err != nil || len(log) != 1 ||
		log[0] != (twinex.AuditEvent{UserID: u.ID, Time: 1, IP: "192.0.2.1", Action: "login", Detail: "password"}) {
		t.Fatalf("AuditLog = %+v, %v", log, err)
	}
}

func testDashboardMFA(t *testing.T, db DashboardStores, u twinex.User) {
	ctx := context.Background()
	if _, err := db.MFA(ctx, u.ID); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("MFA before enrolment: %v, want ErrNotFound", err)
	}
	if err := db.EnableMFA(ctx, u.ID, 5, 1, "r1"); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("EnableMFA without a secret: %v, want ErrNotFound", err)
	}
	if err := db.StartMFA(ctx, u.ID, []byte("sealed-1")); err != nil {
		t.Fatal(err)
	}
	// Starting again replaces an unconfirmed secret.
	if err := db.StartMFA(ctx, u.ID, []byte("sealed-2")); err != nil {
		t.Fatal(err)
	}
	m, err := db.MFA(ctx, u.ID)
	if err != nil || string(m.Secret) != "sealed-2" || m.Enabled != 0 || m.UserID != u.ID {
		t.Fatalf("MFA while enrolling = %+v, %v", m, err)
	}
	// Recovery codes of an unconfirmed factor cannot be used.
	if ok, err := db.SetMFARecovery(ctx, u.ID, "", "x"); err != nil || ok {
		t.Fatalf("SetMFARecovery before EnableMFA = %v, %v", ok, err)
	}
	if err := db.EnableMFA(ctx, u.ID, 50, 100, "h1\nh2"); err != nil {
		t.Fatal(err)
	}
	if err := db.EnableMFA(ctx, u.ID, 60, 101, "h3"); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("EnableMFA twice: %v, want ErrNotFound", err)
	}
	if err := db.StartMFA(ctx, u.ID, []byte("sealed-3")); !errors.Is(err, twinex.ErrConflict) {
		t.Fatalf("StartMFA while enabled: %v, want ErrConflict", err)
	}
	want := twinex.MFA{UserID: u.ID, Secret: []byte("sealed-2"), Enabled: 50, LastStep: 100, Recovery: "h1\nh2"}
	if m, err := db.MFA(ctx, u.ID); err != nil || string(m.Secret) != string(want.Secret) ||
		m.Enabled != want.Enabled || m.LastStep != want.LastStep || m.Recovery != want.Recovery || m.UserID != want.UserID {
		t.Fatalf("MFA = %+v, %v; want %+v", m, err, want)
	}
	// A step is accepted once, and never an earlier one.
	for _, c := range []struct {
		step int64
		want bool
	}{{100, false}, {99, false}, {101, true}, {101, false}, {103, true}, {102, false}} {
		if ok, err := db.AdvanceMFA(ctx, u.ID, c.step); err != nil || ok != c.want {
			t.Fatalf("AdvanceMFA(%d) = %v, %v; want %v", c.step, ok, err, c.want)
		}
	}
	if ok, err := db.AdvanceMFA(ctx, u.ID+1, 500); err != nil || ok {
		t.Fatalf("AdvanceMFA of a user without a factor = %v, %v", ok, err)
	}
	// The recovery hashes change only from what the caller read.
	if ok, err := db.SetMFARecovery(ctx, u.ID, "h1\nh2", "h2"); err != nil || !ok {
		t.Fatalf("SetMFARecovery = %v, %v", ok, err)
	}
	if ok, err := db.SetMFARecovery(ctx, u.ID, "h1\nh2", ""); err != nil || ok {
		t.Fatalf("SetMFARecovery from stale hashes = %v, %v", ok, err)
	}
	if m, _ := db.MFA(ctx, u.ID); m.Recovery != "h2" || m.LastStep != 103 {
		t.Fatalf("MFA after use = %+v", m)
	}
	if err := db.DeleteMFA(ctx, u.ID); err != nil {
		t.Fatal(err)
	}
	if err := db.DeleteMFA(ctx, u.ID); err != nil {
		t.Fatalf("DeleteMFA twice: %v", err)
	}
	if _, err := db.MFA(ctx, u.ID); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("MFA after DeleteMFA: %v", err)
	}
	// A new enrolment starts from nothing.
	if err := db.StartMFA(ctx, u.ID, []byte("sealed-4")); err != nil {
		t.Fatal(err)
	}
	if m, _ := db.MFA(ctx, u.ID); m.Enabled != 0 || m.LastStep != 0 || m.Recovery != "" {
		t.Fatalf("MFA after a new start = %+v", m)
	}
}

// testDashboardTokenRace: an emailed link used by several requests at once
// works for one of them.
func testDashboardTokenRace(t *testing.T, db DashboardStores, u twinex.User) {
	ctx := context.Background()
	if err := db.CreateEmailToken(ctx, twinex.EmailToken{Hash: "r", UserID: u.ID, Purpose: "reset", Expires: 100}); err != nil {
		t.Fatal(err)
	}
	won := race(t, 8, func() (bool, error) {
		_, err := db.ResetPassword(ctx, "r", "new", 5)
		if errors.Is(err, twinex.ErrNotFound) {
			return false, nil
		}
		return err == nil, err
	})
	if won != 1 {
		t.Fatalf("a reset link worked %d times", won)
	}
}

// testDashboardMFARace: a second-factor code sent by several requests at
// once is accepted once, and so is a recovery code.
func testDashboardMFARace(t *testing.T, db DashboardStores, u twinex.User) {
	ctx := context.Background()
	if err := db.StartMFA(ctx, u.ID, []byte("s")); err != nil {
		t.Fatal(err)
	}
	if err := db.EnableMFA(ctx, u.ID, 1, 10, "a\nb"); err != nil {
		t.Fatal(err)
	}
	if won := race(t, 8, func() (bool, error) { return db.AdvanceMFA(ctx, u.ID, 11) }); won != 1 {
		t.Fatalf("a code was accepted %d times", won)
	}
	if won := race(t, 8, func() (bool, error) { return db.SetMFARecovery(ctx, u.ID, "a\nb", "b") }); won != 1 {
		t.Fatalf("a recovery code was used %d times", won)
	}
}
