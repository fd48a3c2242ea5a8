package postgres

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/twinex/twinex/postgres/pgtest"
)

// TestWriterDurability: the connections that make writes durable (the
// store's writer, the journal's) commit with synchronous_commit on even
// when the server's default is off, keep a stronger setting the operator
// chose, and the projector's commits do not wait for the flush.
func TestWriterDurability(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	pg := pgtest.FromEnv(os.Getenv)
	show := func(t *testing.T, c *pgx.Conn) string {
		t.Helper()
		var v string
		if err := c.QueryRow(ctx, `SHOW synchronous_commit`).Scan(&v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	for _, tc := range []struct{ server, writer string }{{"off", "on"}, {"on", "on"}, {"remote_write", "remote_write"}} {
		t.Run(tc.server, func(t *testing.T) {
			url := pg.Schema(t)
			// The server's default, as a startup parameter of every connection.
			if strings.Contains(url, "://") {
				url += "&synchronous_commit=" + tc.server
			} else {
				url += " synchronous_commit=" + tc.server
			}
			db, err := Open(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer db.Close()
			db.x.mu.Lock()
			w, err := db.conn(ctx, true)
			if err != nil {
				t.Fatal(err)
			}
			p, err := db.conn(ctx, false)
			if err != nil {
				t.Fatal(err)
			}
			gotW, gotP := show(t, w), show(t, p)
			db.x.mu.Unlock()
			if gotW != tc.writer || gotP != "off" {
				t.Errorf("writer %s, projector %s; want %s, off", gotW, gotP, tc.writer)
			}
			j, err := OpenJournal(ctx, url)
			if err != nil {
				t.Fatal(err)
			}
			defer j.Close()
			if got := show(t, j.conn); got != tc.writer {
				t.Errorf("journal %s, want %s", got, tc.writer)
			}
		})
	}
}
