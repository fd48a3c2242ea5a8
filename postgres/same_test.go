package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/sqlite"
)

// allStores is every store interface both stores implement.
type allStores interface {
	twinex.AccountStore
	twinex.ActivityStore
	twinex.AddressStore
	twinex.DashboardStore
	twinex.IdentityStore
	twinex.WatchStore
	mail.MailStore
}

// side is one store under comparison, with the ids it handed out where
// the two stores may differ: PostgreSQL's identity columns skip a value on
// a refused insert (an alert already raised, an address taken), SQLite's
// rowids do not.
type side struct {
	s        allStores
	alerts   map[string]int64 // "user/dedupe" -> the alert's id
	deposits map[int64]string // deposit address id -> the address
}

// TestSameAsSQLite applies one seeded random stream of calls to a SQLite
// store and a PostgreSQL store and compares every answer: results, and
// errors by kind (none, ErrNotFound, ErrConflict, other). The contract
// suites check what each method must do; this finds where the two stores
// differ on what the suites do not pin (orders of ties, limits, nil
// against empty, edge values).
func TestSameAsSQLite(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprint("seed=", seed), func(t *testing.T) {
			lite, err := sqlite.Open(filepath.Join(t.TempDir(), "twinex.db"))
			if err != nil {
				t.Fatal(err)
			}
			defer lite.Close()
			pgs := open(t, pg.Schema(t))
			defer pgs.Close()
			a := &side{s: lite, alerts: map[string]int64{}, deposits: map[int64]string{}}
			b := &side{s: pgs, alerts: map[string]int64{}, deposits: map[int64]string{}}
			r := rand.New(rand.NewPCG(seed, 0))
			g := &gen{r: r}
			for step := range 600 {
				name, call := g.next()
				x, y := call(a), call(b)
				if x != y {
					t.Fatalf("seed %d, step %d, %s:\n  sqlite:   %s\n  postgres: %s", seed, step, name, x, y)
				}
			}
		})
	}
}

// kind names an error by what callers branch on.
func kind(err error) string {
	switch {
	case err == nil:
		return "ok"
	case errors.Is(err, twinex.ErrNotFound):
		return "ErrNotFound"
	case errors.Is(err, twinex.ErrConflict):
		return "ErrConflict"
	}
	return "error"
}

// answer renders a call's answer for comparison; %#v tells nil from empty.
func answer(err error, vs ...any) string {
	if err != nil {
		return kind(err)
	}
	var b strings.Builder
	b.WriteString("ok")
	for _, v := range vs {
		fmt.Fprintf(&b, " %#v", v)
	}
	return b.String()
}

// gen draws calls. Users and accounts are created with fresh emails and
// nicknames only, so that both stores number them alike (their conflicts
// are the contract suites' business); everything else draws from small
// pools, so that calls collide.
type gen struct {
	r        *rand.Rand
	users    int64 // users created: ids 1..users
	accounts []int64
	now      int64
}

func (g *gen) user() int64 {
	if g.users == 0 || g.r.IntN(10) == 0 {
		return 999 // nobody
	}
	return 1 + g.r.Int64N(g.users)
}

func (g *gen) account() int64 {
	if len(g.accounts) == 0 || g.r.IntN(10) == 0 {
		return 424242
	}
	return g.accounts[g.r.IntN(len(g.accounts))]
}

func (g *gen) pick(xs ...string) string { return xs[g.r.IntN(len(xs))] }
func (g *gen) keyID() string            { return fmt.Sprint("account-k", g.r.IntN(6)) }
func (g *gen) ip() string               { return g.pick("192.0.2.1", "192.0.2.2", "2001:db8::1") }
func (g *gen) t() int64                 { return g.r.Int64N(60) }

func (g *gen) key() twinex.APIKey {
	k := twinex.APIKey{ID: g.keyID(), UserID: g.user(), AccountID: g.account(), Master: g.r.IntN(4) == 0,
		Label: g.pick("", "bot", "ünïcode"), Roles: twinex.Role(g.r.IntN(16)), RequireHeartbeat: g.r.IntN(2) == 0,
		TimeNonce: g.r.IntN(2) == 0, Secret: []byte{byte(g.r.IntN(256)), 1}, Created: g.t(), Expires: g.t() * int64(g.r.IntN(2)),
		Revoked: g.t() * int64(g.r.IntN(2)), LastNonce: fmt.Sprint(g.r.IntN(100)), LastUsed: g.t(), LastIP: g.ip(), UseSeq: g.r.Int64N(5)}
	switch g.r.IntN(3) {
	case 0:
		k.Allowlist = []string{"10.0.0.0/8", g.ip()}
	case 1:
		k.Allowlist = []string{}
	}
	if g.r.IntN(2) == 0 {
		k.PrevSecret, k.PrevUntil = []byte{9}, g.t()
	}
	return k
}

func (g *gen) activity() twinex.Activity {
	return twinex.Activity{Time: g.r.Int64N(5) * 30e9, KeyID: g.keyID(), UserID: g.user() % 4, AccountID: g.account(), IP: g.ip(),
		Method: g.pick("GET", "POST"), Path: g.pick("/v1/order/new", "/v1/balances"), Reason: g.pick("", "", "InvalidNonce", "RateLimited"),
		Status: 200 + g.r.IntN(300), Latency: g.r.Int64N(1000), Counted: g.r.IntN(2) == 0}
}

// next draws one call: its name and a function applying it to a side.
func (g *gen) next() (string, func(*side) string) {
	ctx := context.Background()
	r := g.r
	g.now++
	switch r.IntN(40) {
	case 0:
		g.users++
		u := twinex.User{Email: fmt.Sprintf(" User%d@Example.com", g.users), PasswordHash: g.pick("", "h"), Created: g.t()}
		if r.IntN(3) == 0 {
			u.Identity = twinex.IdentityVerified
		}
		g.accounts = append(g.accounts, 0) // its primary, filled below
		slot := len(g.accounts) - 1
		return "CreateUser", func(sd *side) string {
			u := u
			a, err := sd.s.CreateUser(ctx, &u)
			g.accounts[slot] = a.ID
			return answer(err, u, a)
		}
	case 1:
		if g.users == 0 {
			return "nothing", func(*side) string { return "" }
		}
		nick := fmt.Sprint("bot-", len(g.accounts))
		a := twinex.Account{UserID: 1 + r.Int64N(g.users), Name: nick, Nickname: nick, Type: "exchange", Created: g.t()}
		g.accounts = append(g.accounts, 0)
		slot := len(g.accounts) - 1
		return "CreateAccount", func(sd *side) string {
			a := a
			err := sd.s.CreateAccount(ctx, &a)
			g.accounts[slot] = a.ID
			return answer(err, a)
		}
	case 2:
		id, email := g.user(), fmt.Sprintf("USER%d@example.COM ", g.user())
		return "User", func(sd *side) string {
			u, err := sd.s.User(ctx, id)
			v, err2 := sd.s.UserByEmail(ctx, email)
			return answer(err, u) + " / " + answer(err2, v)
		}
	case 3:
		u, a := g.user(), g.account()
		return "Accounts", func(sd *side) string {
			as, err := sd.s.Accounts(ctx, u)
			x, err2 := sd.s.Account(ctx, a)
			return answer(err, as) + " / " + answer(err2, x)
		}
	case 4, 5:
		k := g.key()
		return "CreateKey", func(sd *side) string { k := k; return answer(sd.s.CreateKey(ctx, &k)) }
	case 6:
		k := g.key()
		return "UpdateKey", func(sd *side) string { k := k; return answer(sd.s.UpdateKey(ctx, &k)) }
	case 7:
		id, u := g.keyID(), g.user()
		return "Keys", func(sd *side) string {
			k, err := sd.s.Key(ctx, id)
			ks, err2 := sd.s.Keys(ctx, u)
			uses, err3 := sd.s.KeyUses(ctx)
			return answer(err, k) + " / " + answer(err2, ks) + " / " + answer(err3, uses)
		}
	case 8, 9:
		var uses []twinex.KeyUse
		for range r.IntN(4) {
			u := twinex.KeyUse{ID: g.keyID(), LastNonce: fmt.Sprint(r.IntN(1000)), LastUsed: g.t(), LastIP: g.ip(), Seq: r.Int64N(8)}
			if r.IntN(2) == 0 {
				u.Replay = twinex.KeyReplay{KeyID: u.ID, Sig: g.pick("aa", "bb", "cc"), Until: g.t()}
			}
			uses = append(uses, u)
		}
		return "TouchKeys", func(sd *side) string { return answer(sd.s.TouchKeys(ctx, uses)) }
	case 10:
		id, after, prune := g.pick("", g.keyID()), g.t(), r.IntN(4) == 0
		before := g.t()
		return "KeyReplays", func(sd *side) string {
			var err error
			if prune {
				err = sd.s.PruneKeyReplays(ctx, before)
			}
			ms, err2 := sd.s.KeyReplays(ctx, id, after)
			return answer(err) + " / " + answer(err2, ms)
		}
	case 11:
		u, status := g.user(), twinex.IdentityStatus(g.pick("none", "pending", "verified", "rejected"))
		sub := twinex.IdentitySubmission{UserID: u, LegalName: "A B", BirthDate: "1990-01-02", Country: "GB", Address: "x", Submitted: g.t() % 4}
		op := r.IntN(4)
		reason, now := g.pick("", "blurry"), g.t()
		return "Identity", func(sd *side) string {
			var err error
			switch op {
			case 0:
				err = sd.s.SetIdentity(ctx, u, status)
			case 1:
				err = sd.s.SubmitIdentity(ctx, sub)
			case 2:
				err = sd.s.ReviewIdentity(ctx, u, status, reason, now)
			case 3:
				err = sd.s.DecideSubmission(ctx, u, sub.Submitted, status, reason, now)
			}
			x, err2 := sd.s.Identity(ctx, u)
			p, err3 := sd.s.PendingIdentities(ctx, r2(sub.Submitted))
			return answer(err) + " / " + answer(err2, x) + " / " + answer(err3, p)
		}
	case 12, 13:
		s := twinex.Session{ID: g.pick("s1", "s2", "s3", "s4"), UserID: g.user(), Created: g.t(), Expires: g.t(), LastSeen: g.t(), IP: g.ip(), MFA: r.IntN(2) == 0}
		op, u, t := r.IntN(6), g.user(), g.t()
		return "Sessions", func(sd *side) string {
			var err error
			switch op {
			case 0, 1:
				err = sd.s.CreateSession(ctx, s)
			case 2:
				err = sd.s.TouchSession(ctx, s.ID, t)
			case 3:
				err = sd.s.SetSessionMFA(ctx, s.ID, s.MFA)
			case 4:
				err = sd.s.DeleteSession(ctx, s.ID)
			case 5:
				err = sd.s.DeleteUserSessions(ctx, u, s.ID)
			}
			x, err2 := sd.s.Session(ctx, s.ID)
			l, err3 := sd.s.Sessions(ctx, u)
			return answer(err) + " / " + answer(err2, x) + " / " + answer(err3, l)
		}
	case 14, 15:
		tok := twinex.EmailToken{Hash: g.pick("h1", "h2", "h3"), UserID: g.user(), Purpose: g.pick("verify", "reset"), Created: g.t(), Expires: g.t()}
		op, now, u, keep := r.IntN(6), g.t(), g.user(), g.pick("", "s1", "s2")
		return "EmailTokens", func(sd *side) string {
			var err error
			var id int64
			switch op {
			case 0, 1:
				err = sd.s.CreateEmailToken(ctx, tok)
			case 2:
				id, err = sd.s.VerifyEmail(ctx, tok.Hash, now)
			case 3:
				id, err = sd.s.ResetPassword(ctx, tok.Hash, "new", now)
			case 4:
				err = sd.s.ChangePassword(ctx, u, "changed", keep)
			case 5:
				err = sd.s.SetEmailVerified(ctx, u, now)
			}
			x, err2 := sd.s.EmailToken(ctx, tok.Hash)
			v, err3 := sd.s.EmailVerified(ctx, u)
			usr, err4 := sd.s.User(ctx, u)
			l, err5 := sd.s.Sessions(ctx, u)
			return answer(err, id) + " / " + answer(err2, x) + " / " + answer(err3, v) + " / " + answer(err4, usr) + " / " + answer(err5, l)
		}
	case 16:
		a := twinex.LoginAttempt{Email: g.pick("A@x.io", "a@x.io", "b@x.io"), IP: g.ip(), Time: g.t(), OK: r.IntN(2) == 0}
		email, ip, since := g.pick("a@X.io", "b@x.io", "c@x.io"), g.ip(), g.t()
		attemptsBefore := g.t() * int64(r.IntN(2))
		return "LoginAttempts", func(sd *side) string {
			err := sd.s.AddLoginAttempt(ctx, a)
			l, err2 := sd.s.LoginAttempts(ctx, email, ip, since)
			// Equal times have no order; compare them as sets of times.
			var err3 error
			if attemptsBefore > 0 {
				err3 = sd.s.PruneWeb(ctx, 0, attemptsBefore)
			}
			return answer(err) + " / " + answer(err2, len(l), attemptTimes(l)) + " / " + answer(err3)
		}
	case 17:
		e := twinex.AuditEvent{UserID: g.user(), Time: g.t(), IP: g.ip(), Action: g.pick("login", "logout"), Detail: g.pick("", "d")}
		u, n, action, ip := g.user(), r.IntN(6)-1, g.pick("login", "logout"), g.pick("", g.ip())
		return "Audit", func(sd *side) string {
			err := sd.s.AddAudit(ctx, e)
			l, err2 := sd.s.AuditLog(ctx, u, n)
			h, err3 := sd.s.HasAudit(ctx, u, action, ip)
			return answer(err) + " / " + answer(err2, l) + " / " + answer(err3, h)
		}
	case 18, 19:
		u, op, step, at := g.user(), r.IntN(6), r.Int64N(6), g.t()
		old, rec := g.pick("", "a\nb", "b"), g.pick("a\nb", "b", "")
		return "MFA", func(sd *side) string {
			var err error
			var ok bool
			switch op {
			case 0:
				err = sd.s.StartMFA(ctx, u, []byte{byte(step)})
			case 1:
				err = sd.s.EnableMFA(ctx, u, at, step, rec)
			case 2:
				ok, err = sd.s.AdvanceMFA(ctx, u, step)
			case 3:
				ok, err = sd.s.SetMFARecovery(ctx, u, old, rec)
			case 4:
				err = sd.s.DeleteMFA(ctx, u)
			}
			m, err2 := sd.s.MFA(ctx, u)
			return answer(err, ok) + " / " + answer(err2, m)
		}
	case 20, 21:
		a := twinex.Alert{UserID: g.user(), KeyID: g.keyID(), Kind: twinex.AlertNewIP, Dedupe: g.pick("d1", "d2", "d3"), IP: g.ip(), Message: "m", Created: g.t()}
		op, u, all, n, t := r.IntN(4), g.user(), r.IntN(2) == 0, r.IntN(4), g.t()
		ref := fmt.Sprint(g.user(), "/", g.pick("d1", "d2", "d3"))
		return "Alerts", func(sd *side) string {
			var err error
			var ok bool
			id := sd.alerts[ref]
			switch op {
			case 0, 1:
				ok, err = sd.s.RaiseAlert(ctx, &a)
				if ok {
					sd.alerts[fmt.Sprint(a.UserID, "/", a.Dedupe)] = a.ID
				}
			case 2:
				err = sd.s.DismissAlerts(ctx, u, id, a.KeyID, t)
			case 3:
				err = sd.s.PruneWatch(ctx, t)
			}
			l, err2 := sd.s.Alerts(ctx, u, all, n)
			c, err3 := sd.s.OpenAlerts(ctx, u)
			one, err4 := sd.s.Alert(ctx, u, id)
			return answer(err, ok) + " / " + answer(err2, noAlertIDs(l)) + " / " + answer(err3, c) + " / " + answer(err4, noAlertIDs([]twinex.Alert{one}))
		}
	case 22:
		id, ip, t := g.keyID(), g.ip(), g.t()
		return "NoteKeyIP", func(sd *side) string {
			isNew, before, err := sd.s.NoteKeyIP(ctx, id, ip, t)
			return answer(err, isNew, before)
		}
	case 23:
		u, plan, set := g.user(), g.pick("free", "pro"), r.IntN(2) == 0
		return "Plans", func(sd *side) string {
			var err error
			if set {
				err = sd.s.SetUserPlan(ctx, u, plan)
			}
			p, err2 := sd.s.UserPlan(ctx, u)
			return answer(err) + " / " + answer(err2, p)
		}
	case 24:
		id, fp, fp2 := g.keyID(), []byte{byte(r.IntN(4))}, []byte{byte(r.IntN(4))}
		return "Fingerprints", func(sd *side) string {
			err := sd.s.AddFingerprints(ctx, id, fp, fp2)
			k, err2 := sd.s.KeyByFingerprint(ctx, fp2)
			un, err3 := sd.s.Unfingerprinted(ctx)
			ak, err4 := sd.s.ActiveKeys(ctx)
			return answer(err) + " / " + answer(err2, k) + " / " + answer(err3, un) + " / " + answer(err4, ak)
		}
	case 25, 26, 27:
		recs := make([]twinex.Activity, r.IntN(5))
		for i := range recs {
			recs[i] = g.activity()
		}
		f := twinex.ActivityFilter{UserID: g.user() % 4, Limit: r.IntN(5)}
		switch r.IntN(6) {
		case 0:
			f.KeyID = g.keyID()
		case 1:
			f.Outcome = g.pick("ok", "error", "RateLimited")
		case 2:
			f.IP, f.Since = g.ip(), r.Int64N(5)*30e9
		case 3:
			f.UnknownKeys = true
		case 4:
			f.Before = r.Int64N(5) * 30e9
		}
		return "Activity", func(sd *side) string {
			err := sd.s.AddActivity(ctx, recs)
			l, err2 := sd.s.Activity(ctx, f)
			return answer(err) + " / " + answer(err2, noActivityIDs(l))
		}
	case 28:
		key, from, prune := g.keyID(), r.Int64N(3), r.IntN(4) == 0
		before := r.Int64N(5) * 30e9
		return "Usage", func(sd *side) string {
			var n int64
			var err error
			if prune {
				n, err = sd.s.PruneActivity(ctx, before)
			}
			u, err2 := sd.s.Usage(ctx, key, from, from+2)
			c, err3 := sd.s.CountedSince(ctx, from)
			return answer(err, n) + " / " + answer(err2, u) + " / " + answer(err3, c)
		}
	case 29, 30:
		acct, network := g.account(), g.pick("bitcoin", "ethereum")
		d := twinex.DepositAddress{AccountID: acct, Network: network, Currency: "BTC", Address: g.pick("a1", "a2", "a3"), Label: g.pick("", "l"), Created: g.t()}
		return "DepositAddresses", func(sd *side) string {
			err := sd.s.CreateDepositAddress(ctx, &d)
			if err == nil {
				sd.deposits[d.ID] = d.Address
			}
			l, err2 := sd.s.DepositAddresses(ctx, acct, network)
			for i := range l {
				if l[i].ID != 0 && sd.deposits[l[i].ID] != l[i].Address {
					return fmt.Sprintf("deposit address %d is %q, was stored as %q", l[i].ID, l[i].Address, sd.deposits[l[i].ID])
				}
				l[i].ID = 0
			}
			return answer(err) + " / " + answer(err2, l)
		}
	case 31, 32:
		a := twinex.ApprovedAddress{AccountID: g.account(), Network: g.pick("bitcoin", "ethereum"), Address: g.pick("b1", "b2"), Label: "l", Memo: g.pick("", "m"), Created: g.t(), Active: g.t()}
		op, now := r.IntN(3), g.t()
		return "ApprovedAddresses", func(sd *side) string {
			var err error
			switch op {
			case 0, 1:
				err = sd.s.ApproveAddress(ctx, &a)
			case 2:
				err = sd.s.RemoveApprovedAddress(ctx, a.AccountID, a.Network, a.Address, now)
			}
			l, err2 := sd.s.ApprovedAddresses(ctx, a.AccountID, a.Network)
			used, err3 := sd.s.AllowlistUsed(ctx, a.AccountID, a.Network)
			return answer(err) + " / " + answer(err2, l) + " / " + answer(err3, used)
		}
	case 33:
		m := mail.Stored{To: g.pick("A@x.io", "b@x.io"), Subject: "s", Text: "t", Created: g.t()}
		to, n, id := g.pick("", "a@x.io", "c@x.io"), r.IntN(4)-1, r.Int64N(5)
		return "Mail", func(sd *side) string {
			err := sd.s.SaveMail(ctx, &m)
			l, err2 := sd.s.Mails(ctx, to, n)
			one, err3 := sd.s.Mail(ctx, id)
			return answer(err, m) + " / " + answer(err2, l) + " / " + answer(err3, one)
		}
	case 34:
		now, attemptsBefore := g.t(), g.t()
		return "PruneWeb", func(sd *side) string { return answer(sd.s.PruneWeb(ctx, now, attemptsBefore)) }
	case 35:
		minute := r.Int64N(3)
		return "PruneUsage", func(sd *side) string { return answer(sd.s.PruneUsage(ctx, minute)) }
	}
	return "nothing", func(*side) string { return "" }
}

// r2 maps a small number to a PendingIdentities limit, 0 (the default)
// included.
func r2(n int64) int { return int(n % 3) }

// attemptTimes lists the attempts' times, sorted: equal times have no
// order in either store.
func attemptTimes(as []twinex.LoginAttempt) map[string]int {
	out := map[string]int{}
	for _, a := range as {
		out[fmt.Sprintf("%d %s %s %v", a.Time, a.Email, a.IP, a.OK)]++
	}
	return out
}

// noAlertIDs clears the alerts' ids, which differ between the stores (see
// side); Dedupe identifies an alert of a user.
func noAlertIDs(as []twinex.Alert) []twinex.Alert {
	for i := range as {
		as[i].ID = 0
	}
	return as
}

// noActivityIDs clears the records' ids: SQLite reuses the ids of pruned
// records when the log is emptied, PostgreSQL does not; the order, which
// the ids decide among equal times, is still compared.
func noActivityIDs(as []twinex.Activity) []twinex.Activity {
	for i := range as {
		as[i].ID = 0
	}
	return as
}
