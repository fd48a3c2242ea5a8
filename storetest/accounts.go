package storetest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sync"
	"testing"

	"github.com/twinex/twinex"
)

// AccountOpener opens the AccountStore kept in dir; reopening the same dir
// must find what was stored. The suite closes what it opens through the
// returned close function.
type AccountOpener func(t *testing.T, dir string) (twinex.AccountStore, func())

// RunAccounts is the contract suite of twinex.AccountStore.
func RunAccounts(t *testing.T, open AccountOpener) { // long: one contract suite; its cases are subtests sharing the opener, read top to bottom
	ctx := context.Background()
	newStore := func(t *testing.T) twinex.AccountStore {
		s, closeFn := open(t, t.TempDir())
		t.Cleanup(closeFn)
		return s
	}

	t.Run("UsersAndPrimaryAccounts", func(t *testing.T) {
		s := newStore(t)
		u := twinex.User{Email: "  Alice@Example.COM ", PasswordHash: "$argon2id$x", Created: 5}
		primary, err := s.CreateUser(ctx, &u)
		if err != nil {
			t.Fatal(err)
		}
		if u.ID == 0 || u.Email != "alice@example.com" || u.Identity != twinex.IdentityNone {
			t.Fatalf("created user %+v", u)
		}
		if primary.ID < twinex.FirstUserAccountID || primary.UserID != u.ID || primary.Nickname != twinex.PrimaryNickname || primary.Type != "exchange" {
			t.Fatalf("primary account %+v", primary)
		}
		if _, err := s.CreateUser(ctx, &twinex.User{Email: "ALICE@example.com"}); !errors.Is(err, twinex.ErrConflict) {
			t.Fatalf("duplicate email: %v", err)
		}
		got, err := s.UserByEmail(ctx, "alice@EXAMPLE.com")
		if err != nil || got != u {
			t.Fatalf("UserByEmail: %+v %v, want %+v", got, err, u)
		}
		if got, err := s.User(ctx, u.ID); err != nil || got != u {
			t.Fatalf("User: %+v %v", got, err)
		}
		if _, err := s.UserByEmail(ctx, "bob@example.com"); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
		if err := s.SetIdentity(ctx, u.ID, twinex.IdentityVerified); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.User(ctx, u.ID); got.Identity != twinex.IdentityVerified {
			t.Fatalf("identity %q", got.Identity)
		}
		if err := s.SetIdentity(ctx, 999999, twinex.IdentityVerified); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("identity of a missing user: %v", err)
		}
	})

	t.Run("KeyUsesAndReplayMarks", func(t *testing.T) {
		s := newStore(t)
		u := twinex.User{Email: "r@x.io"}
		acct, _ := s.CreateUser(ctx, &u)
		k := twinex.APIKey{ID: "account-ReplayReplayReplay01", UserID: u.ID, AccountID: acct.ID, Roles: twinex.RoleTrader, TimeNonce: true, Secret: []byte{1}, Created: 1}
		if err := s.CreateKey(ctx, &k); err != nil {
			t.Fatal(err)
		}
		first := twinex.KeyReplay{KeyID: k.ID, Sig: "aa", Until: 100}
		second := twinex.KeyReplay{KeyID: k.ID, Sig: "bb", Until: 200}
		other := twinex.KeyReplay{KeyID: "account-OtherOtherOther00001", Sig: "aa", Until: 300}
		// A use carrying a mark stores both; a mark alone (Seq 0) leaves
		// the nonce mark as it is.
		if err := s.TouchKeys(ctx, []twinex.KeyUse{{ID: k.ID, LastNonce: "7", LastUsed: 3, LastIP: "10.0.0.1", Seq: 2, Replay: first},
			{ID: k.ID, Replay: second}, {ID: other.KeyID, Replay: other}}); err != nil {
			t.Fatal(err)
		}
		got, err := s.KeyReplays(ctx, k.ID, 0)
		if err != nil || !reflect.DeepEqual(got, []twinex.KeyReplay{first, second}) {
			t.Fatalf("KeyReplays(key, 0) = %+v, %v", got, err)
		}
		if got, _ := s.KeyReplays(ctx, k.ID, 100); !reflect.DeepEqual(got, []twinex.KeyReplay{second}) {
			t.Fatalf("KeyReplays(key, 100) = %+v: a mark ending at 100 is no longer in force", got)
		}
		if got, _ := s.KeyReplays(ctx, "", 0); !reflect.DeepEqual(got, []twinex.KeyReplay{other, first, second}) { // by key, then mark
			t.Fatalf("KeyReplays(all) = %+v", got)
		}
		// The same mark again keeps the later end.
		if err := s.TouchKeys(ctx, []twinex.KeyUse{{ID: k.ID, Replay: twinex.KeyReplay{KeyID: k.ID, Sig: "bb", Until: 150}}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.KeyReplays(ctx, k.ID, 199); !reflect.DeepEqual(got, []twinex.KeyReplay{second}) {
			t.Fatalf("a repeated mark moved its end back: %+v", got)
		}
		uses, err := s.KeyUses(ctx)
		want := []twinex.KeyUse{{ID: k.ID, LastNonce: "7", LastUsed: 3, LastIP: "10.0.0.1", Seq: 2}}
		if err != nil || !reflect.DeepEqual(uses, want) {
			t.Fatalf("KeyUses = %+v, %v; want %+v", uses, err, want)
		}
		if err := s.PruneKeyReplays(ctx, 201); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.KeyReplays(ctx, "", 0); !reflect.DeepEqual(got, []twinex.KeyReplay{other}) {
			t.Fatalf("after PruneKeyReplays(201): %+v", got)
		}
	})

	t.Run("AccountsInGroups", func(t *testing.T) {
		s := newStore(t)
		a, b := twinex.User{Email: "a@x.io"}, twinex.User{Email: "b@x.io"}
		pa, _ := s.CreateUser(ctx, &a)
		pb, _ := s.CreateUser(ctx, &b)
		if pa.ID == pb.ID {
			t.Fatal("two users share an account id")
		}
		second := twinex.Account{UserID: a.ID, Name: "Bot Two", Nickname: "bot-two", Type: "exchange", Created: 9}
		if err := s.CreateAccount(ctx, &second); err != nil {
			t.Fatal(err)
		}
		if second.ID <= pb.ID {
			t.Fatalf("account ids do not increase: %d after %d", second.ID, pb.ID)
		}
		if err := s.CreateAccount(ctx, &twinex.Account{UserID: a.ID, Name: "x", Nickname: "bot-two", Type: "exchange"}); !errors.Is(err, twinex.ErrConflict) {
			t.Fatalf("duplicate nickname in a group: %v", err)
		}
		other := twinex.Account{UserID: b.ID, Name: "Bot Two", Nickname: "bot-two", Type: "exchange"}
		if err := s.CreateAccount(ctx, &other); err != nil {
			t.Fatalf("same nickname in another group: %v", err)
		}
		list, err := s.Accounts(ctx, a.ID)
		if err != nil || len(list) != 2 || list[0] != pa || list[1] != second {
			t.Fatalf("Accounts: %+v %v", list, err)
		}
		if got, err := s.Account(ctx, second.ID); err != nil || got != second {
			t.Fatalf("Account: %+v %v", got, err)
		}
		if _, err := s.Account(ctx, 424242); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("missing account: %v", err)
		}
	})

	// Servers sharing one database create accounts at once: each gets an
	// id of its own, and of one nickname in a group only one is stored.
	t.Run("AccountsUnderRace", func(t *testing.T) {
		s := newStore(t)
		u := twinex.User{Email: "race@x.io"}
		if _, err := s.CreateUser(ctx, &u); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		n := 0
		race(t, 8, func() (bool, error) {
			mu.Lock()
			n++
			nick := fmt.Sprint("bot-", n)
			mu.Unlock()
			return true, s.CreateAccount(ctx, &twinex.Account{UserID: u.ID, Name: nick, Nickname: nick, Type: "exchange"})
		})
		stored := race(t, 8, func() (bool, error) {
			err := s.CreateAccount(ctx, &twinex.Account{UserID: u.ID, Name: "Same", Nickname: "same", Type: "exchange"})
			if errors.Is(err, twinex.ErrConflict) {
				return false, nil
			}
			return err == nil, err
		})
		if stored != 1 {
			t.Fatalf("one nickname stored %d times", stored)
		}
		list, err := s.Accounts(ctx, u.ID)
		if err != nil || len(list) != 10 {
			t.Fatalf("Accounts: %d, %v; want 10", len(list), err)
		}
		seen := map[int64]bool{}
		for _, a := range list {
			if seen[a.ID] || a.ID < twinex.FirstUserAccountID {
				t.Fatalf("account ids %+v", list)
			}
			seen[a.ID] = true
		}
	})

	// Uses of one key written at once, out of order: the latest (by Seq)
	// stays, whatever order the writes land in.
	t.Run("KeyUsesUnderRace", func(t *testing.T) {
		s := newStore(t)
		u := twinex.User{Email: "uses@x.io"}
		p, err := s.CreateUser(ctx, &u)
		if err != nil {
			t.Fatal(err)
		}
		k := twinex.APIKey{ID: "account-uses", UserID: u.ID, AccountID: p.ID, Secret: []byte{1}}
		if err := s.CreateKey(ctx, &k); err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		seq := int64(0)
		race(t, 16, func() (bool, error) {
			mu.Lock()
			seq++
			n := seq
			mu.Unlock()
			return true, s.TouchKeys(ctx, []twinex.KeyUse{{ID: k.ID, LastNonce: fmt.Sprint(1000 + n), LastUsed: n, Seq: n}})
		})
		got, err := s.Key(ctx, k.ID)
		if err != nil || got.UseSeq != 16 || got.LastNonce != "1016" || got.LastUsed != 16 {
			t.Fatalf("key after racing uses: seq %d nonce %s used %d, %v", got.UseSeq, got.LastNonce, got.LastUsed, err)
		}
	})

	t.Run("Keys", func(t *testing.T) {
		s := newStore(t)
		u := twinex.User{Email: "k@x.io"}
		p, _ := s.CreateUser(ctx, &u)
		k := twinex.APIKey{
			ID: "account-AbCdEfGhIjKlMnOpQrSt", UserID: u.ID, AccountID: p.ID, Label: "bot ✓",
			Roles: twinex.RoleTrader | twinex.RoleFundManager, Allowlist: []string{"10.0.0.0/8", "2001:db8::/32"},
			RequireHeartbeat: true, TimeNonce: true, Secret: []byte{1, 2, 3, 0, 255},
			Created: 100, Expires: 1 << 62, LastNonce: "1795648307705", LastUsed: 7, LastIP: "::1", UseSeq: 3,
		}
		if err := s.CreateKey(ctx, &k); err != nil {
			t.Fatal(err)
		}
		if err := s.CreateKey(ctx, &k); !errors.Is(err, twinex.ErrConflict) {
			t.Fatalf("duplicate key id: %v", err)
		}
		got, err := s.Key(ctx, k.ID)
		if err != nil || !reflect.DeepEqual(got, k) {
			t.Fatalf("Key:\n got %+v\nwant %+v (%v)", got, k, err)
		}
		m := twinex.APIKey{ID: "master-AbCdEfGhIjKlMnOpQrSt", UserID: u.ID, Master: true, Roles: twinex.RoleAdministrator | twinex.RoleTrader, Secret: []byte{9}, Created: 200}
		if err := s.CreateKey(ctx, &m); err != nil {
			t.Fatal(err)
		}
		k.Revoked, k.PrevSecret, k.PrevUntil, k.Allowlist, k.LastNonce = 300, []byte{7}, 400, nil, "1795648307706"
		if err := s.UpdateKey(ctx, &k); err != nil {
			t.Fatal(err)
		}
		list, err := s.Keys(ctx, u.ID)
		if err != nil || len(list) != 2 || !reflect.DeepEqual(list[0], m) || !reflect.DeepEqual(list[1], k) {
			t.Fatalf("Keys (newest first):\n%+v\n%v", list, err)
		}
		if err := s.TouchKeys(ctx, []twinex.KeyUse{{ID: m.ID, LastNonce: "42", LastUsed: 9, LastIP: "10.1.2.3", Seq: 5}, {ID: "account-nope", Seq: 1}}); err != nil {
			t.Fatal(err)
		}
		m.LastNonce, m.LastUsed, m.LastIP, m.UseSeq = "42", 9, "10.1.2.3", 5
		if got, _ := s.Key(ctx, m.ID); !reflect.DeepEqual(got, m) {
			t.Fatalf("after TouchKeys: %+v, want %+v", got, m)
		}
		// An older use (a smaller Seq) arriving late never takes the mark back.
		if err := s.TouchKeys(ctx, []twinex.KeyUse{{ID: m.ID, LastNonce: "41", LastUsed: 8, LastIP: "10.9.9.9", Seq: 4}}); err != nil {
			t.Fatal(err)
		}
		if got, _ := s.Key(ctx, m.ID); !reflect.DeepEqual(got, m) {
			t.Fatalf("a stale use overwrote the key: %+v, want %+v", got, m)
		}
		// An edit from a cache older than the stored use (another server's,
		// or one loaded before the use was stored) changes the key's other
		// fields and keeps the stored use: a nonce mark never goes back.
		stale := m
		stale.Label, stale.LastNonce, stale.LastUsed, stale.LastIP, stale.UseSeq = "edited", "41", 8, "10.9.9.9", 4
		if err := s.UpdateKey(ctx, &stale); err != nil {
			t.Fatal(err)
		}
		m.Label = "edited"
		if got, _ := s.Key(ctx, m.ID); !reflect.DeepEqual(got, m) {
			t.Fatalf("an edit from a stale cache took the use back: %+v, want %+v", got, m)
		}
		if err := s.UpdateKey(ctx, &twinex.APIKey{ID: "account-nope"}); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("update of a missing key: %v", err)
		}
		if _, err := s.Key(ctx, "account-nope"); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("missing key: %v", err)
		}
	})

	t.Run("Reopen", func(t *testing.T) {
		dir := t.TempDir()
		s, closeFn := open(t, dir)
		u := twinex.User{Email: "r@x.io", Created: 1}
		p, err := s.CreateUser(ctx, &u)
		if err != nil {
			t.Fatal(err)
		}
		k := twinex.APIKey{ID: "account-00000000000000000001", UserID: u.ID, AccountID: p.ID, Roles: twinex.RoleAuditor, Secret: []byte("s")}
		if err := s.CreateKey(ctx, &k); err != nil {
			t.Fatal(err)
		}
		closeFn()
		s, closeFn = open(t, dir)
		defer closeFn()
		if got, err := s.UserByEmail(ctx, "r@x.io"); err != nil || got != u {
			t.Fatalf("user after reopen: %+v %v", got, err)
		}
		if got, err := s.Key(ctx, k.ID); err != nil || !reflect.DeepEqual(got, k) {
			t.Fatalf("key after reopen: %+v %v", got, err)
		}
	})
}
