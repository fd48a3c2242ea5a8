package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/gemini"
)

// admin calls the admin API of a running App.
func admin(t *testing.T, a *App, method, path, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, "http://"+a.Addr()+path, strings.NewReader(body))
	req.Header.Set("Authorization", "Bearer "+a.token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	var v map[string]any
	json.Unmarshal(data, &v)
	if v == nil {
		var list []any
		if json.Unmarshal(data, &list) == nil {
			v = map[string]any{"list": list}
		}
	}
	return resp.StatusCode, v
}

func usdOf(t *testing.T, a *App, email string) string {
	t.Helper()
	st, v := admin(t, a, "GET", "/admin/v1/balances?email="+email, "")
	if st != 200 {
		t.Fatalf("balances of %s: %d %v", email, st, v)
	}
	for _, b := range v["list"].([]any) {
		if m := b.(map[string]any); m["currency"] == "USD" {
			return m["amount"].(string)
		}
	}
	return "0"
}

func TestSaveRestoreReset(t *testing.T) {
	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	must := func(method, path, body string) map[string]any {
		t.Helper()
		st, v := admin(t, a, method, path, body)
		if st != 200 {
			t.Fatalf("%s %s %s: %d %v", method, path, body, st, v)
		}
		return v
	}
	must("POST", "/admin/v1/accounts", `{"email":"s@example.com","verified":true}`)
	must("POST", "/admin/v1/fund", `{"email":"s@example.com","currency":"USD","amount":"100"}`)
	must("POST", "/admin/v1/sandbox/save", `{"name":"before-test"}`)
	must("POST", "/admin/v1/fund", `{"email":"s@example.com","currency":"USD","amount":"900"}`)
	if got := usdOf(t, a, "s@example.com"); got != "1000" {
		t.Fatalf("USD before restore: %s", got)
	}
	if v := must("GET", "/admin/v1/sandbox/snapshots", ""); len(v["snapshots"].([]any)) != 1 {
		t.Fatalf("snapshots %v", v)
	}
	if info, err := os.Stat(a.snapshotPath("before-test")); err != nil || info.Mode().Perm() != 0o600 {
		t.Fatalf("snapshot file: %v %v, want mode 0600", info.Mode(), err)
	}
	// A record in the activity log, which a restore does not carry over.
	a.st.log.Record(twinex.Activity{Time: time.Now().UnixNano(), KeyID: "account-x", UserID: 1, Method: "POST", Path: "/v1/balances"})
	a.st.log.Flush(context.Background())
	if recs, _ := a.st.store.Activity(context.Background(), twinex.ActivityFilter{UserID: 1}); len(recs) != 1 {
		t.Fatalf("activity before restore %+v", recs)
	}
	must("POST", "/admin/v1/sandbox/restore", `{"name":"before-test"}`)
	if got := usdOf(t, a, "s@example.com"); got != "100" {
		t.Fatalf("USD after restore: %s", got)
	}
	if recs, _ := a.st.store.Activity(context.Background(), twinex.ActivityFilter{UserID: 1}); len(recs) != 0 {
		t.Fatalf("activity survived a restore %+v", recs)
	}
	if v := must("GET", "/admin/v1/verify", ""); v["ok"] != true {
		t.Fatalf("verify after restore: %v", v)
	}
	if st, v := admin(t, a, "POST", "/admin/v1/sandbox/restore", `{"name":"nope"}`); st != 400 {
		t.Fatalf("unknown snapshot: %d %v", st, v)
	}
	if st, v := admin(t, a, "POST", "/admin/v1/sandbox/save", `{"name":"../escape"}`); st != 400 {
		t.Fatalf("bad name: %d %v", st, v)
	}
	// The state still works after a refused restore.
	if got := usdOf(t, a, "s@example.com"); got != "100" {
		t.Fatalf("USD after a refused restore: %s", got)
	}
	demo, _ := os.ReadFile(filepath.Join(dir, DemoCredentialsFile))
	must("POST", "/admin/v1/sandbox/reset", ``)
	if st, _ := admin(t, a, "GET", "/admin/v1/balances?email=s@example.com", ""); st != 400 {
		t.Fatalf("the user survived a reset: %d", st)
	}
	fresh, err := os.ReadFile(filepath.Join(dir, DemoCredentialsFile))
	if err != nil || bytes.Equal(fresh, demo) {
		t.Fatalf("reset did not make a new demo account: %v", err)
	}
	if got := usdOf(t, a, DemoEmail); got != "100000" {
		t.Fatalf("new demo account's USD: %s", got)
	}
}

func TestSandboxControlsAreNotInProduction(t *testing.T) {
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir(), Mode: Production}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	for _, p := range []string{"/admin/v1/sandbox/save", "/admin/v1/sandbox/restore", "/admin/v1/sandbox/reset"} {
		if st, v := admin(t, a, "POST", p, `{"name":"x"}`); st != 404 || v["reason"] != "EndpointNotFound" {
			t.Errorf("%s in production: %d %v", p, st, v)
		}
	}
}

func TestRestoreRefusesAnUnusableSnapshot(t *testing.T) {
	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	os.MkdirAll(filepath.Join(dir, "snapshots"), 0o700)
	os.WriteFile(filepath.Join(dir, "snapshots", "empty.db"), nil, 0o600)
	os.WriteFile(filepath.Join(dir, "snapshots", "junk.db"), []byte("not a database at all, not even close........"), 0o600)
	for _, name := range []string{"empty", "junk"} {
		if st, v := admin(t, a, "POST", "/admin/v1/sandbox/restore", `{"name":"`+name+`"}`); st != 400 {
			t.Fatalf("restore of %s: %d %v", name, st, v)
		}
	}
	if got := usdOf(t, a, DemoEmail); got != "100000" {
		t.Fatalf("the demo account after refused restores: %s USD", got)
	}
}

func TestDemoCredentialsFollowRestores(t *testing.T) {
	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	must := func(path, body string) {
		t.Helper()
		if st, v := admin(t, a, "POST", path, body); st != 200 {
			t.Fatalf("%s: %d %v", path, st, v)
		}
	}
	must("/admin/v1/sandbox/save", `{"name":"first"}`)
	must("/admin/v1/sandbox/reset", ``)
	must("/admin/v1/sandbox/restore", `{"name":"first"}`)
	id, err := demoKeyID(filepath.Join(dir, DemoCredentialsFile))
	if err != nil {
		t.Fatal(err)
	}
	if st, v := admin(t, a, "GET", "/admin/v1/keys?email="+DemoEmail, ""); st != 200 || !strings.Contains(fmt.Sprint(v), id) {
		t.Fatalf("the demo credentials name %s, which the restored store lacks: %d %v", id, st, v)
	}
}

func TestProductionRefusesASandboxDataDirectory(t *testing.T) {
	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(context.Background()); err != nil {
		t.Fatal(err)
	}
	a.Close()
	b := &App{Listen: "127.0.0.1:0", DataDir: dir, Mode: Production}
	if err := b.Open(context.Background()); err == nil {
		b.Close()
		t.Fatal("production started on a sandbox's data directory")
	}
}

// TestRestoreKeepsReplayMarks: a restore takes balances back, not the keys:
// not what they have already used, nor a revocation. A withdrawal of a time-nonce key sent after the
// snapshot was saved is refused when sent again after the restore, and so
// is a counter-nonce key's request.
func TestRestoreKeepsReplayMarks(t *testing.T) {
	ctx := context.Background()
	a := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	must := func(method, path, body string) map[string]any {
		t.Helper()
		st, v := admin(t, a, method, path, body)
		if st != 200 {
			t.Fatalf("%s %s %s: %d %v", method, path, body, st, v)
		}
		return v
	}
	must("POST", "/admin/v1/accounts", `{"email":"r@example.com","verified":true}`)
	must("POST", "/admin/v1/fund", `{"email":"r@example.com","currency":"BTC","amount":"1"}`)
	tk := must("POST", "/admin/v1/keys", `{"email":"r@example.com","roles":"fundmanager","time_nonce":true}`)
	ck := must("POST", "/admin/v1/keys", `{"email":"r@example.com","roles":"auditor"}`)
	rk := must("POST", "/admin/v1/keys", `{"email":"r@example.com","roles":"auditor"}`)
	must("POST", "/admin/v1/sandbox/save", `{"name":"funded"}`)
	must("POST", "/admin/v1/keys/revoke", `{"key":"`+rk["key"].(string)+`"}`)

	base := "http://" + a.Addr()
	sec := time.Now().Unix()
	timed := gemini.New(base, tk["key"].(string), tk["secret"].(string), gemini.WithNonceSource(gemini.NonceFunc(func() int64 { return sec })))
	ms := time.Now().UnixMilli()
	counter := gemini.New(base, ck["key"].(string), ck["secret"].(string), gemini.WithNonceSource(gemini.NonceFunc(func() int64 { return ms })))
	withdraw := func() error {
		_, err := timed.Withdraw(ctx, "btc", "bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4", gemini.Decimal("0.1"), "")
		return err
	}
	if err := withdraw(); err != nil {
		t.Fatal(err)
	}
	if _, err := counter.Balances(ctx); err != nil {
		t.Fatal(err)
	}
	must("POST", "/admin/v1/sandbox/restore", `{"name":"funded"}`)
	if err := withdraw(); !gemini.IsReason(err, twinex.InvalidNonce) {
		t.Fatalf("the withdrawal again after the restore: %v, want InvalidNonce", err)
	}
	if _, err := counter.Balances(ctx); !gemini.IsReason(err, twinex.InvalidNonce) {
		t.Fatalf("a counter-nonce request again after the restore: %v, want InvalidNonce", err)
	}
	// A key revoked after the snapshot stays revoked.
	if _, err := gemini.New(base, rk["key"].(string), rk["secret"].(string)).Balances(ctx); !gemini.IsReason(err, twinex.InvalidSignature) {
		t.Fatalf("a key revoked after the snapshot, after the restore: %v, want InvalidSignature", err)
	}
}

// TestRestoreRefusesSecretsItCannotOpen: a snapshot saved by a server with
// another master key is refused, naming the cause, and the current state
// stays.
func TestRestoreRefusesSecretsItCannotOpen(t *testing.T) {
	ctx := context.Background()
	other := &App{Listen: "127.0.0.1:0", DataDir: t.TempDir()}
	if err := other.Open(ctx); err != nil {
		t.Fatal(err)
	}
	if st, v := admin(t, other, "POST", "/admin/v1/sandbox/save", `{"name":"elsewhere"}`); st != 200 {
		t.Fatalf("save: %d %v", st, v)
	}
	other.Close()

	dir := t.TempDir()
	a := &App{Listen: "127.0.0.1:0", DataDir: dir}
	if err := a.Open(ctx); err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	os.MkdirAll(filepath.Join(dir, "snapshots"), 0o700)
	if err := copyFile(other.snapshotPath("elsewhere"), a.snapshotPath("elsewhere")); err != nil {
		t.Fatal(err)
	}
	st, v := admin(t, a, "POST", "/admin/v1/sandbox/restore", `{"name":"elsewhere"}`)
	if msg, _ := v["message"].(string); st != 400 || !strings.Contains(msg, "master key cannot open") || !strings.Contains(msg, "API key account-") {
		t.Fatalf("restore of another server's snapshot: %d %v", st, v)
	}
	// The demo account and its key still work.
	key, secret := demoKey(t, dir)
	if _, err := gemini.New("http://"+a.Addr(), key, secret).Balances(ctx); err != nil {
		t.Fatalf("the current demo key after the refused restore: %v", err)
	}
}
