package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/twinex/twinex/admin"
	"github.com/twinex/twinex/app"
	"github.com/twinex/twinex/sqlite"
)

const backupUsage = `Usage: twinex admin backup --to FILE [--log]

Makes a consistent copy of a running server's store while it keeps serving:
accounts, orders, trades, balances, users and their API keys (whose secrets
stay sealed under the master key, which is NOT in the copy: keep it apart,
see the README). With --log, the activity log is copied too, beside FILE
(FILE "backup.db" gives "backup-log.db"). FILE must not exist.

Bring it back with: twinex restore --from FILE --data DIR
`

// adminBackup runs "admin backup".
func adminBackup(ctx context.Context, c *adminClient, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("admin backup", backupUsage, stderr)
	to := fs.String("to", "", "the file to write (must not exist)")
	log := fs.Bool("log", false, "also copy the activity log, beside FILE")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *to == "" || !strings.HasSuffix(*to, ".db") {
		fmt.Fprintf(stderr, "admin backup: --to FILE.db is required\n\n%s", backupUsage)
		return errUsage
	}
	parts := map[string]string{"exchange": *to}
	if *log {
		parts["log"] = sqlite.LogPath(*to)
	}
	for _, p := range []string{"exchange", "log"} {
		if path, ok := parts[p]; ok {
			if _, err := os.Stat(path); err == nil {
				return fmt.Errorf("admin backup: %s exists; choose a new file", path)
			}
		}
	}
	for _, p := range []string{"exchange", "log"} {
		path, ok := parts[p]
		if !ok {
			continue
		}
		n, err := c.download(ctx, "/admin/v1/backup?part="+url.QueryEscape(p), path)
		if err != nil {
			return fmt.Errorf("admin backup (%s): %w", p, err)
		}
		if err := sqlite.CheckFile(ctx, path); err != nil {
			return fmt.Errorf("admin backup: the copy in %s does not check out: %w", path, err)
		}
		out, _ := json.Marshal(map[string]any{"part": p, "file": path, "bytes": n})
		fmt.Fprintf(stdout, "%s\n", out)
	}
	return nil
}

// download saves the answer to a GET to path (created 0600, written to a
// temporary file first, so a failed download leaves nothing behind).
func (c *adminClient) download(ctx context.Context, path, to string) (int64, error) {
	token, err := c.authToken()
	if err != nil {
		return 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.URL+path, nil)
	if err != nil {
		return 0, err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	// Not through c's client: the copy streams to the file, where the
	// capture of answers for printing would hold it in memory.
	hc := http.Client{Timeout: time.Hour} // a large store takes a while
	resp, err := hc.Do(req)
	if err != nil {
		return 0, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		out, _ := io.ReadAll(io.LimitReader(resp.Body, 64<<10))
		return 0, admin.ReadError(resp.StatusCode, out)
	}
	f, err := os.CreateTemp(filepath.Dir(to), filepath.Base(to)+".*.tmp")
	if err != nil {
		return 0, err
	}
	defer os.Remove(f.Name())
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return 0, err
	}
	n, err := io.Copy(f, resp.Body)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil && resp.ContentLength >= 0 && n != resp.ContentLength {
		err = fmt.Errorf("the copy was cut short: %d of %d bytes", n, resp.ContentLength)
	}
	if err != nil {
		return 0, err
	}
	return n, os.Rename(f.Name(), to)
}

const restoreUsage = `Usage: twinex restore --from FILE --data DIR

Brings back a backup made by "twinex admin backup" into a new data directory
(DIR must not hold a store yet), then checks it: the exchange recovers, the
ledger invariants hold, and every sealed secret opens with the master key.
That key is not in backups: put the original master.key into DIR first (mode
0600), or set TWINEX_MASTER_KEY_FILE. The activity log comes back too when
its copy sits beside FILE. Then start the server with: twinex serve --data DIR
`

// runRestore runs "restore".
func runRestore(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := newFlags("restore", restoreUsage, stderr)
	from := fs.String("from", "", "the backup file")
	data := fs.String("data", "", "the new data directory")
	if err := parse(fs, args); err != nil {
		return err
	}
	if *from == "" || *data == "" {
		fmt.Fprintf(stderr, "restore: --from and --data are required\n\n%s", restoreUsage)
		return errUsage
	}
	rep, err := app.RestoreBackup(ctx, *from, *data, os.Getenv("TWINEX_MASTER_KEY_FILE"))
	if err != nil {
		return fmt.Errorf("restore: %w", err)
	}
	out, _ := json.MarshalIndent(rep, "", "  ")
	fmt.Fprintf(stdout, "%s\n", out)
	if !rep.OK {
		return errors.New("restore: the ledger check failed")
	}
	return nil
}
