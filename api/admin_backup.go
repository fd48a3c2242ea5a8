package api

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"time"

	"github.com/twinex/twinex"
)

// Backups makes consistent copies of the store while it serves (the
// sqlite store implements it).
type Backups interface {
	BackupTo(ctx context.Context, path string) error
	BackupLogTo(ctx context.Context, path string) error
}

func (s *Server) routeBackup() {
	s.mux.Handle("GET /admin/v1/backup", s.admin(s.adminBackup))
}

// adminBackup streams a consistent copy of the store: part=exchange (the
// default: accounts, orders, trades, balances, users and their keys, still
// sealed) or part=log (the activity log). The copy is taken on the server
// (in a private folder under BackupDir, removed afterwards) and then sent,
// so a slow download never holds the store.
func (s *Server) adminBackup(w http.ResponseWriter, r *http.Request) error {
	if s.Backups == nil || s.BackupDir == "" {
		return twinex.Errorf(twinex.EndpointNotFound, "Backups are not available on this server")
	}
	part := r.URL.Query().Get("part")
	backup := s.Backups.BackupTo
	switch part {
	case "", "exchange":
		part = "exchange"
	case "log":
		backup = s.Backups.BackupLogTo
	default:
		return twinex.Errorf(twinex.InvalidJson, "part must be exchange or log")
	}
	// The server's write timeout is for requests, not for a copy of the
	// whole store: this one may take as long as it needs.
	if err := http.NewResponseController(w).SetWriteDeadline(time.Time{}); err != nil {
		s.Logger.Warn("backup: cannot lift the write deadline", "err", err)
	}
	dir, err := os.MkdirTemp(s.BackupDir, "backup-*")
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer os.RemoveAll(dir)
	path := filepath.Join(dir, part+".db")
	if err := backup(context.WithoutCancel(r.Context()), path); err != nil {
		return err
	}
	f, err := os.Open(path)
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return fmt.Errorf("backup: %w", err)
	}
	w.Header().Set("Content-Type", "application/vnd.sqlite3")
	w.Header().Set("Content-Length", strconv.FormatInt(info.Size(), 10))
	w.Header().Set("Content-Disposition", `attachment; filename="twinex-`+part+`.db"`)
	if _, err := io.Copy(w, f); err != nil {
		s.Logger.Warn("backup: sending the copy", "part", part, "err", err)
	}
	s.Logger.Info("backup sent", "part", part, "bytes", info.Size())
	return nil
}
