package app

import (
	"bufio"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/accounts"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/keys"
)

// The sandbox's demo user, provisioned at first start.
const (
	DemoEmail = "demo@twinex.local"
	// DemoCredentialsFile holds the demo key in the format `twinex api
	// --credentials` reads, with mode 0600.
	DemoCredentialsFile = "demo.credentials"
)

// demoFunds are the demo account's starting balances.
var demoFunds = [][2]string{{"USD", "100000"}, {"BTC", "5"}, {"ETH", "50"}, {"SOL", "1000"}, {"LTC", "500"}}

// provisionDemo creates, at the sandbox's first start, a verified demo user
// with funds and a trader and fund-manager API key, and keeps its
// credentials (and the dashboard password) in <data>/demo.credentials. The
// file is the marker: once it exists nothing is created again.
func (m *App) provisionDemo(ctx context.Context, st *state) error {
	path := filepath.Join(m.DataDir, DemoCredentialsFile)
	keepPassword := ""
	if id, err := demoKeyID(path); err == nil {
		k, err := st.store.Key(ctx, id)
		if err == nil && k.Active(m.now().UnixNano()) {
			return nil // provisioned, and this store has the key
		}
		if err == nil {
			// The demo key was revoked (from the dashboard, or by a
			// secret report) or expired: printing it would hand the
			// newcomer dead credentials. Make a new key; the login stays.
			m.Logger.Info("sandbox demo key is no longer active; making a new one", "key", id)
			keepPassword = demoPassword(path)
		}
		// Otherwise a restore or reset replaced the store: the file names a
		// key it does not hold. Make the demo account and key again.
		if err := os.Remove(path); err != nil {
			return fmt.Errorf("demo account: %w", err)
		}
	} else if !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("demo account: %w", err)
	}
	pw := rand.Text()[:16]
	u, acct, err := st.users.CreateUser(ctx, accounts.NewUser{Email: DemoEmail, Password: pw, Verified: true})
	if errors.Is(err, twinex.ErrConflict) {
		// The credentials file was deleted: keep the user, make a new key.
		if u, err = st.store.UserByEmail(ctx, DemoEmail); err != nil {
			return fmt.Errorf("demo account: %w", err)
		}
		list, err := st.store.Accounts(ctx, u.ID)
		if err != nil || len(list) == 0 {
			return fmt.Errorf("demo account: no primary account: %v", err)
		}
		acct, pw = list[0], "(unchanged; see the earlier credentials)"
		if keepPassword != "" {
			pw = keepPassword
		}
	} else if err != nil {
		return fmt.Errorf("demo account: %w", err)
	} else {
		for _, f := range demoFunds {
			cur := st.core.Markets().Currency(f[0])
			if cur == nil {
				continue
			}
			amt, err := twinex.ParseUnits(f[1], cur.Scale)
			if err != nil {
				return err
			}
			res, err := st.core.Do(ctx, engine.Command{Kind: engine.DepositFunds, AccountID: acct.ID, Currency: cur.Code, Funds: amt, Method: "Sandbox"})
			if err == nil {
				err = res.Err
			}
			if err != nil {
				return fmt.Errorf("demo account: fund %s: %w", cur.Code, err)
			}
		}
	}
	k, secret, err := st.keys.Create(ctx, u, acct, keys.CreateOptions{Roles: twinex.RoleTrader | twinex.RoleFundManager, Label: "demo"})
	if err != nil {
		return fmt.Errorf("demo account: %w", err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return fmt.Errorf("demo account: %w", err)
	}
	_, werr := fmt.Fprintf(f, "# Twinex sandbox demo account: login %s, password %s\nGEMINI_API_KEY=%s\nGEMINI_API_SECRET=%s\n",
		DemoEmail, pw, k.ID, secret)
	if cerr := f.Close(); werr == nil {
		werr = cerr
	}
	if werr != nil {
		os.Remove(path)
		return fmt.Errorf("demo account: %w", werr)
	}
	m.Logger.Info("sandbox demo account created", "email", DemoEmail, "key", k.ID)
	return nil
}

// demoBanner prints the demo account's credentials (sandbox only: they are
// sandbox keys, and the point is that a newcomer can use them at once).
func (m *App) demoBanner(w io.Writer, base string) {
	path := filepath.Join(m.DataDir, DemoCredentialsFile)
	f, err := os.Open(path)
	if err != nil {
		return
	}
	defer f.Close()
	var login, key, secret string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		switch {
		case strings.HasPrefix(line, "# "):
			login = strings.TrimPrefix(line, "# Twinex sandbox demo account: ")
		case strings.HasPrefix(line, "GEMINI_API_KEY="):
			key = strings.TrimPrefix(line, "GEMINI_API_KEY=")
		case strings.HasPrefix(line, "GEMINI_API_SECRET="):
			secret = strings.TrimPrefix(line, "GEMINI_API_SECRET=")
		}
	}
	fmt.Fprintf(w, `
Sandbox demo account (%s):
  GEMINI_API_KEY=%s GEMINI_API_SECRET=%s
  Try: curl -s %s/v1/pubticker/btcusd
       go run ./cmd/twinex api --base-url %s --credentials %s balances
  Dashboard: %s/ (sign up, or log in with the demo login above)
  API reference: %s/docs/api (the OpenAPI document: %s/openapi.json)
`, login, key, secret, base, base, path, base, base, base)
}

// demoPassword reads the login password from the demo credentials file, ""
// when it has none.
func demoPassword(path string) string {
	data, err := os.ReadFile(path)
	if err != nil {
		return ""
	}
	first, _, _ := strings.Cut(string(data), "\n")
	_, pw, ok := strings.Cut(first, ", password ")
	if !ok {
		return ""
	}
	return strings.TrimSpace(pw)
}

// demoKeyID reads the key id from the demo credentials file.
func demoKeyID(path string) (string, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return "", err
	}
	for _, line := range strings.Split(string(data), "\n") {
		if id, ok := strings.CutPrefix(line, "GEMINI_API_KEY="); ok {
			return strings.TrimSpace(id), nil
		}
	}
	return "", fmt.Errorf("demo account: %s has no GEMINI_API_KEY line", path)
}
