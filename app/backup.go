package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/core"
	"github.com/twinex/twinex/engine"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/sqlite"
	"github.com/twinex/twinex/web"
)

// RestoreReport is what RestoreBackup found in the restored store.
type RestoreReport struct {
	OK   bool   `json:"ok"` // the ledger invariants hold
	Data string `json:"data"`
	Log  bool   `json:"log_restored"`
	verified
}

// verified is what verifyStore found in a store that an installation was
// restored or migrated into.
type verified struct {
	OpenOrders    int      `json:"open_orders"`
	LastOrderID   int64    `json:"last_order_id"`
	LastTradeID   int64    `json:"last_trade_id"`
	SealedSecrets int      `json:"sealed_secrets"` // all opened with the master key
	Violations    []string `json:"violations,omitempty"`
}

// verifyStore opens every sealed secret of st with its master key, then
// recovers the exchange from its store (with cfg's journal and markets)
// and runs the ledger check, adding what it finds to chk; a ledger that
// fails its check is a violation, not an error. what names the store in
// errors.
func verifyStore(ctx context.Context, st *state, cfg core.Config, what string, chk *verified) error {
	n, err := checkSealed(ctx, st)
	if err != nil {
		return err
	}
	chk.SealedSecrets = n
	cfg.Store = st.store
	c, err := core.Open(ctx, cfg)
	if err != nil {
		return fmt.Errorf("recovering the exchange from %s: %w", what, err)
	}
	var cerr error
	ierr := c.Inspect(ctx, func(x *engine.Exchange) {
		cerr = x.Check()
		chk.OpenOrders = x.OpenOrderCount()
		n := x.Counters()
		chk.LastOrderID, chk.LastTradeID = n.OrderID, n.TradeID
	})
	if err := errors.Join(ierr, c.Close()); err != nil {
		return err
	}
	var ce *engine.CheckError
	if errors.As(cerr, &ce) {
		chk.Violations = append(chk.Violations, ce.Violations...)
	} else if cerr != nil {
		chk.Violations = append(chk.Violations, cerr.Error())
	}
	return nil
}

// RestoreBackup brings back a backup (made by GET /admin/v1/backup, `twinex
// admin backup`) into dataDir, which must not hold a store yet, and checks
// it: the exchange recovers from it (with this data directory's markets),
// every sealed secret opens with the master key (dataDir's master.key, or
// keyFile), and the ledger invariants hold. The master key is not part of
// a backup, and RestoreBackup never makes a new one: without it the
// restored keys could never be used. The activity log is restored too when
// its copy (sqlite.LogPath(from)) exists. On an error nothing is left in
// dataDir but what was there before.
func RestoreBackup(ctx context.Context, from, dataDir, keyFile string) (RestoreReport, error) {
	rep := RestoreReport{Data: dataDir}
	if err := sqlite.CheckFile(ctx, from); err != nil {
		return rep, fmt.Errorf("%s is not a usable backup: %w", from, err)
	}
	db := filepath.Join(dataDir, "twinex.db")
	for _, f := range dbFiles(db) {
		if _, err := os.Stat(f); err == nil {
			return rep, fmt.Errorf("%s already holds a store (%s); restore into a new directory", dataDir, filepath.Base(f))
		}
	}
	if keyFile == "" {
		if _, err := os.Stat(filepath.Join(dataDir, auth.MasterKeyFileName)); err != nil {
			return rep, fmt.Errorf("no master key: copy the original %s into %s (mode 0600), or set TWINEX_MASTER_KEY_FILE; backups never hold it",
				auth.MasterKeyFileName, dataDir)
		}
	}
	masterKey, err := auth.LoadMasterKey(dataDir, keyFile)
	if err != nil {
		return rep, err
	}
	sealer, err := auth.NewSealer(masterKey)
	if err != nil {
		return rep, err
	}
	markets, err := loadMarkets(dataDir)
	if err != nil {
		return rep, err
	}
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return rep, err
	}
	if err := checkDataDir(dataDir); err != nil {
		return rep, err
	}
	copied := []string{}
	undo := func() {
		for _, f := range copied {
			os.Remove(f)
		}
		for _, f := range dbFiles(db) {
			os.RemoveAll(f) // the -wal and -shm files that opening made
		}
	}
	if err := copyFile(from, db); err != nil {
		return rep, fmt.Errorf("copy %s: %w", from, err)
	}
	copied = append(copied, db)
	if log := sqlite.LogPath(from); fileExists(log) {
		if err := sqlite.CheckFile(ctx, log); err != nil {
			undo()
			return rep, fmt.Errorf("%s is not a usable activity log: %w", log, err)
		}
		if err := copyFile(log, sqlite.LogPath(db)); err != nil {
			undo()
			return rep, fmt.Errorf("copy %s: %w", log, err)
		}
		copied = append(copied, sqlite.LogPath(db))
		rep.Log = true
	}
	if err := checkRestored(ctx, db, markets, sealer, &rep); err != nil {
		undo()
		return rep, err
	}
	if !rep.OK {
		undo()
		return rep, fmt.Errorf("the restored ledger fails its check: %s", strings.Join(rep.Violations, "; "))
	}
	return rep, nil
}

// checkRestored opens a restored store, recovers the exchange from it and
// checks its sealed secrets and ledger.
func checkRestored(ctx context.Context, db string, markets *twinex.Markets, sealer *auth.Sealer, rep *RestoreReport) error {
	store, err := sqlite.Open(db)
	if err != nil {
		return err
	}
	defer store.Close()
	st := &state{store: store, keys: &keys.Service{Store: store, Sealer: sealer}, web: &web.Server{Sealer: sealer}}
	if err := verifyStore(ctx, st, core.Config{Markets: markets}, "the backup", &rep.verified); err != nil {
		return err
	}
	rep.OK = len(rep.Violations) == 0
	return nil
}

func fileExists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
