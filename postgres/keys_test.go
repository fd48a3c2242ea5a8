package postgres_test

import (
	"context"
	"crypto/rand"
	"encoding/json"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/keys"
)

// TestKeyServicesShareTheStore runs the key service on the PostgreSQL store
// the way two servers sharing one database would: what one accepted and
// stored, the other refuses (no nonce mark goes back across servers), and a
// revocation stored by one holds for a service that loads the key after it.
func TestKeyServicesShareTheStore(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db := open(t, pg.Schema(t))
	defer db.Close()
	mk := make([]byte, 32)
	rand.Read(mk)
	sealer, err := auth.NewSealer(mk)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Unix(1_800_000_000, 0)
	service := func() *keys.Service {
		return &keys.Service{Store: db, Sealer: sealer, Now: func() time.Time { return now }}
	}
	nonce := func(v string) auth.Nonce {
		n, err := auth.ParseNonce(json.RawMessage(v))
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	u := twinex.User{Email: "two@example.com", Identity: twinex.IdentityVerified}
	acct, err := db.CreateUser(ctx, &u)
	if err != nil {
		t.Fatal(err)
	}

	first := service()
	k, secret, err := first.Create(ctx, u, acct, keys.CreateOptions{Roles: twinex.RoleTrader})
	if err != nil || secret == "" {
		t.Fatalf("Create: %v", err)
	}
	e, err := first.Lookup(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := first.Accept(e, nonce(`"100"`), now, "127.0.0.1"); err != nil {
		t.Fatal(err)
	}
	if err := first.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	second := service()
	e2, err := second.Lookup(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := second.Accept(e2, nonce(`"100"`), now, "127.0.0.1"); twinex.ErrorReason(err) != twinex.InvalidNonce {
		t.Fatalf("a nonce the first server accepted, at the second: %v", err)
	}
	if _, err := second.Accept(e2, nonce(`"101"`), now, "127.0.0.1"); err != nil {
		t.Fatalf("a later nonce at the second server: %v", err)
	}
	if err := second.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got, err := db.Key(ctx, k.ID); err != nil || got.LastNonce != "101" {
		t.Fatalf("stored mark %q, %v; want 101", got.LastNonce, err)
	}

	if _, err := second.Revoke(ctx, k.ID); err != nil {
		t.Fatal(err)
	}
	third := service()
	e3, err := third.Lookup(ctx, k.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k3 := e3.Key(); k3.Active(now.UnixNano()) {
		t.Fatal("a key revoked by another server is active")
	}
	if got, _ := db.Key(ctx, k.ID); got.LastNonce != "101" {
		t.Fatalf("the revocation took the mark to %q", got.LastNonce)
	}
}
