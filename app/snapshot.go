package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/sqlite"
)

// Sandbox snapshots: the whole state (the SQLite store) saved under a name in
// <data>/snapshots/NAME.db, restored in place, or reset to nothing.

// ErrNoSnapshot is returned by Restore for an unknown name.
var ErrNoSnapshot = errors.New("no such snapshot")

func validSnapshotName(name string) error {
	if name == "" || len(name) > 64 {
		return errors.New("a snapshot name has 1 to 64 letters, digits, '-' or '_'")
	}
	for _, r := range name {
		if !(r == '-' || r == '_' || 'a' <= r && r <= 'z' || 'A' <= r && r <= 'Z' || '0' <= r && r <= '9') {
			return errors.New("a snapshot name has 1 to 64 letters, digits, '-' or '_'")
		}
	}
	return nil
}

func (m *App) snapshotPath(name string) string {
	return filepath.Join(m.DataDir, "snapshots", name+".db")
}

// Save saves the whole acknowledged state under name, replacing an older
// snapshot of that name. It runs inside a request, which holds m.mu for
// reading (taking it again could deadlock behind a waiting restore).
func (m *App) Save(ctx context.Context, name string) error {
	if err := m.fileBased("save"); err != nil {
		return err
	}
	if err := validSnapshotName(name); err != nil {
		return err
	}
	if err := m.st.keys.Flush(ctx); err != nil {
		return err
	}
	// The copy is of the database: it must hold every acknowledged command.
	if err := m.st.core.Caught(ctx); err != nil {
		return err
	}
	path := m.snapshotPath(name)
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), name+".*.tmp")
	if err != nil {
		return fmt.Errorf("save: %w", err)
	}
	tmp.Close()
	os.Remove(tmp.Name()) // VACUUM INTO needs a path that does not exist
	defer os.Remove(tmp.Name())
	if err := m.st.sqlite.SaveTo(ctx, tmp.Name()); err != nil {
		return err
	}
	// VACUUM INTO creates the file with the process's default mode.
	if err := os.Chmod(tmp.Name(), 0o600); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if err := syncFile(tmp.Name()); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	if err := syncFile(filepath.Dir(path)); err != nil {
		return fmt.Errorf("save: %w", err)
	}
	m.Logger.Info("sandbox state saved", "name", name)
	return nil
}

// Snapshots lists the saved snapshots' names.
func (m *App) Snapshots() ([]string, error) {
	entries, err := os.ReadDir(filepath.Join(m.DataDir, "snapshots"))
	if errors.Is(err, os.ErrNotExist) {
		return []string{}, nil
	}
	if err != nil {
		return nil, err
	}
	names := []string{}
	for _, e := range entries {
		if n, ok := strings.CutSuffix(e.Name(), ".db"); ok && validSnapshotName(n) == nil {
			names = append(names, n)
		}
	}
	sort.Strings(names)
	return names, nil
}

// Restore replaces the whole state with the snapshot saved under name.
func (m *App) Restore(ctx context.Context, name string) error {
	if err := m.fileBased("restore"); err != nil {
		return err
	}
	if err := validSnapshotName(name); err != nil {
		return err
	}
	src := m.snapshotPath(name)
	if _, err := os.Stat(src); err != nil {
		return fmt.Errorf("%w: %s", ErrNoSnapshot, name)
	}
	// An empty or damaged file would otherwise open as a new, empty
	// exchange and the current state would be thrown away.
	if err := sqlite.CheckFile(ctx, src); err != nil {
		return fmt.Errorf("snapshot %s is not usable: %w", name, err)
	}
	return m.swap(ctx, "restore "+name, func(db string) error { return copyFile(src, db) })
}

// fileBased refuses a sandbox snapshot, restore or reset on PostgreSQL:
// they set SQLite's files aside and copy them, which several servers
// sharing one database could not do safely (a standby would go on with
// the state it recovered). On PostgreSQL the database's own tools do it
// (pg_dump and pg_restore of the schema, with every server stopped).
func (m *App) fileBased(what string) error {
	if !IsPostgres(m.Store) {
		return nil
	}
	return twinex.Errorf(twinex.InvalidJson, "Sandbox %s works on the SQLite store only; on PostgreSQL, stop the servers and use pg_dump and pg_restore on the schema (README, Running on PostgreSQL)", what)
}

// ErrSealedSecrets is wrapped by Restore's error when the snapshot holds
// secrets that this server's master key cannot open.
var ErrSealedSecrets = errors.New("secrets that this server's master key cannot open")

// checkSealed opens every sealed secret of a state (API keys' secrets, TOTP
// seeds) with this server's master key. A snapshot saved by another server
// (another master key), or one whose sealed values were damaged, restores
// otherwise, and every request with an affected key then fails. It
// returns how many it opened.
func checkSealed(ctx context.Context, st *state) (int, error) {
	all, err := st.sealedSecrets(ctx)
	if err != nil {
		return 0, err
	}
	var bad []string
	for _, v := range all {
		switch {
		case v.KeyID != "":
			if st.keys.CheckSecret(v.KeyID, v.Sealed) != nil {
				bad = append(bad, "API key "+v.KeyID)
			}
		default:
			if st.web.CheckMFASecret(v.UserID, v.Sealed) != nil {
				bad = append(bad, fmt.Sprintf("the two-factor secret of user %d", v.UserID))
			}
		}
	}
	if len(bad) == 0 {
		return len(all), nil
	}
	slices.Sort(bad)
	bad = slices.Compact(bad)
	more := ""
	if len(bad) > 3 {
		more, bad = fmt.Sprintf(" and %d more", len(bad)-3), bad[:3]
	}
	return 0, fmt.Errorf("it holds %w (%s%s): it was saved by a server with another master key, or it is damaged; "+
		"restore it with that server's master key (TWINEX_MASTER_KEY_FILE), or choose another snapshot", ErrSealedSecrets, strings.Join(bad, ", "), more)
}

// Reset returns to a clean state: no accounts, orders or history (and, in
// the sandbox, a new demo account).
func (m *App) Reset(ctx context.Context) error {
	if err := m.fileBased("reset"); err != nil {
		return err
	}
	return m.swap(ctx, "reset", func(string) error {
		err := os.Remove(filepath.Join(m.DataDir, DemoCredentialsFile))
		if errors.Is(err, os.ErrNotExist) {
			return nil
		}
		return err
	})
}

// dbFiles are the store's files: the database and the activity log's, with
// their WALs, and the command journal's directory. A snapshot holds the
// database only (it is taken once the projection holds every acknowledged
// command, and a closed state leaves its journal empty): after a restore or
// reset the journal starts anew, and the log starts empty, so that no
// record (of users the restored state may number differently) outlives the
// state it was about.
func dbFiles(db string) []string {
	log := sqlite.LogPath(db)
	return []string{db, db + "-wal", db + "-shm", log, log + "-wal", log + "-shm", journalDir(filepath.Dir(db))}
}

// swap stops the current state, sets the store's files aside, lets replace
// put a new database in place (or none, for an empty one), and opens the
// new state. Requests wait meanwhile. If anything fails, the old files come
// back and the old state is reopened.
func (m *App) swap(ctx context.Context, what string, replace func(db string) error) error {
	// A scenario scripts the state it started on: it ends with it.
	if st := m.ScenarioStatus(); st.State == "running" {
		m.StopScenario()
		m.Logger.Info("scenario stopped by a "+what, "scenario", st.Name)
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	db := filepath.Join(m.DataDir, "twinex.db")
	var marks keyState
	if m.st != nil { // nil after a swap whose putBack failed
		var err error
		if marks, err = m.st.keyState(ctx); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		if err := m.st.close(); err != nil {
			m.Logger.Error("closing the state before a "+what, "err", err)
		}
		m.st = nil
	}
	aside := func(f string) string { return f + ".aside" }
	for _, f := range dbFiles(db) {
		if err := os.Rename(f, aside(f)); err != nil && !errors.Is(err, os.ErrNotExist) {
			return m.putBack(ctx, db, fmt.Errorf("%s: %w", what, err))
		}
	}
	err := replace(db)
	var st *state
	if err == nil {
		st, err = m.openState(ctx, 0)
	}
	if err == nil {
		if _, err = checkSealed(ctx, st); err != nil {
			st.close()
		}
	}
	if err == nil {
		// A restore takes the exchange back, not the keys: a key revoked,
		// rotated or edited since the snapshot stays so, and must not
		// accept again what it accepted since (nonce and replay marks).
		if err = marks.apply(ctx, st); err != nil {
			st.close()
		}
	}
	if err != nil {
		for _, f := range dbFiles(db) {
			os.RemoveAll(f)
		}
		return m.putBack(ctx, db, fmt.Errorf("%s: %w", what, err))
	}
	st.start(m.linkBase())
	m.st, m.controls = st, st.handler
	for _, f := range dbFiles(db) {
		os.RemoveAll(aside(f))
	}
	m.Logger.Info("sandbox state replaced", "by", what)
	return nil
}

// keyState is what a restore carries from the current state into the
// restored one: every key as it is now, and the replay marks in force.
type keyState struct {
	keys    []twinex.APIKey
	replays []twinex.KeyReplay
}

// keyState reads the keys and replay marks, after writing the uses still
// in memory.
func (st *state) keyState(ctx context.Context) (keyState, error) {
	var ks keyState
	if err := st.keys.Flush(ctx); err != nil {
		return ks, err
	}
	// The marks of requests that went through the sequencer are in the
	// store once the projection holds them.
	if err := st.core.Caught(ctx); err != nil {
		return ks, err
	}
	uses, err := st.store.KeyUses(ctx)
	if err != nil {
		return ks, err
	}
	for _, u := range uses {
		k, err := st.store.Key(ctx, u.ID)
		if err != nil {
			return ks, err
		}
		ks.keys = append(ks.keys, k)
	}
	if ks.replays, err = st.store.KeyReplays(ctx, "", 0); err != nil { // expired ones are pruned later
		return ks, err
	}
	return ks, nil
}

// apply writes the keys over their restored copies (keys the restored
// state lacks stay gone: their users' state is from before them) and
// stores the replay marks.
func (ks keyState) apply(ctx context.Context, st *state) error {
	for i := range ks.keys {
		k := ks.keys[i]
		if err := st.store.UpdateKey(ctx, &k); err != nil && !errors.Is(err, twinex.ErrNotFound) {
			return err
		}
	}
	var marks []twinex.KeyUse
	for _, r := range ks.replays {
		marks = append(marks, twinex.KeyUse{ID: r.KeyID, Replay: r})
	}
	return st.store.TouchKeys(ctx, marks)
}

// putBack restores the files set aside and reopens the old state; it
// returns cause, joined with any error of its own.
func (m *App) putBack(ctx context.Context, db string, cause error) error {
	for _, f := range dbFiles(db) {
		if err := os.Rename(f+".aside", f); err != nil && !errors.Is(err, os.ErrNotExist) {
			return errors.Join(cause, err)
		}
	}
	st, err := m.openState(ctx, 0)
	if err != nil {
		// Requests get 503 until a later restore or reset succeeds (they
		// still reach the last handler) or the server restarts.
		m.Logger.Error("the previous state could not be reopened", "err", err)
		return errors.Join(cause, fmt.Errorf("reopening the previous state: %w", err))
	}
	st.start(m.linkBase())
	m.st, m.controls = st, st.handler
	return cause
}

// syncFile makes a file's (or a directory's) contents durable.
func syncFile(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	return f.Sync()
}

func copyFile(src, dst string) error {
	in, err := os.Open(src)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(dst, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
