package postgres

import (
	"context"
	"errors"
	"io"
	"net"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twinex/twinex"
	"github.com/twinex/twinex/postgres/pgtest"
)

// cutProxy forwards connections to the PostgreSQL server at target; once
// cut is set, it drops a connection as soon as the server answers on it,
// without passing the answer on: the server did the work, the client
// never hears of it.
type cutProxy struct {
	ln  net.Listener
	cut atomic.Bool
}

func newCutProxy(t *testing.T, target string) *cutProxy {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &cutProxy{ln: ln}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			s, err := net.Dial("tcp", target)
			if err != nil {
				c.Close()
				continue
			}
			go func() { io.Copy(s, c); s.Close() }()
			go func() {
				defer c.Close()
				defer s.Close()
				buf := make([]byte, 64<<10)
				for {
					n, err := s.Read(buf)
					if n > 0 {
						if p.cut.Load() {
							return // the answer is lost
						}
						if _, err := c.Write(buf[:n]); err != nil {
							return
						}
					}
					if err != nil {
						return
					}
				}
			}()
		}
	}()
	return p
}

// through returns the connection string u pointing at the proxy.
func (p *cutProxy) through(t *testing.T, u string) (string, string) {
	t.Helper()
	host, port, _ := net.SplitHostPort(p.ln.Addr().String())
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		pu, err := url.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		target := pu.Host
		pu.Host = p.ln.Addr().String()
		return pu.String(), target
	}
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	return u + " host=" + host + " port=" + port, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port)))
}

// TestAppendLostAnswerIsOutcomeUnknown: when the connection breaks after
// an append was sent, the database may have committed it (here it did),
// and the next leader replays it; so the error must say that the outcome
// is unknown (twinex.ErrOutcomeUnknown), never that nothing was written,
// or a client told "not executed" sends the order again and it runs twice.
func TestAppendLostAnswerIsOutcomeUnknown(t *testing.T) {
	ctx := context.Background()
	pg := pgtest.FromEnv(os.Getenv)
	u := pg.Schema(t)
	cfg, err := pgx.ParseConfig(u)
	if err != nil {
		t.Fatal(err)
	}
	p := newCutProxy(t, net.JoinHostPort(cfg.Host, strconv.Itoa(int(cfg.Port))))
	pu, _ := p.through(t, u)
	ctl, err := Open(ctx, u)
	if err != nil {
		t.Fatal(err)
	}
	defer ctl.Close()
	token, _, err := ctl.Acquire(ctx, "twinex-a", "127.0.0.1:1", 60_000_000_000)
	if err != nil || token == 0 {
		t.Fatalf("acquire: %d, %v", token, err)
	}
	for _, fence := range []int64{0, token} {
		j, err := OpenJournal(ctx, pu)
		if err != nil {
			t.Fatal(err)
		}
		j.SetFence(fence)
		first := j.Last() + 1
		if err := j.Append(ctx, []twinex.JournalRecord{{Seq: first, Data: []byte("one")}}); err != nil {
			t.Fatal(err)
		}
		p.cut.Store(true)
		err = j.Append(ctx, []twinex.JournalRecord{{Seq: first + 1, Data: []byte("two")}})
		p.cut.Store(false)
		j.Close()
		if err == nil {
			t.Fatal("an append whose answer was lost succeeded")
		}
		var n int
		if err := ctl.pool.QueryRow(ctx, `SELECT count(*) FROM journal WHERE seq = $1`, int64(first+1)).Scan(&n); err != nil {
			t.Fatal(err)
		}
		if n != 1 {
			t.Skipf("fence %d: the server did not commit the append before the cut (%v); nothing to check", fence, err)
		}
		if !errors.Is(err, twinex.ErrOutcomeUnknown) {
			t.Errorf("fence %d: the append was committed but its error says nothing of it: %v", fence, err)
		}
	}
}

// TestOutcomeUnknown: an ERROR from the server, or a failure before
// anything was sent, means nothing was written; a lost answer or a session
// ended by the server (FATAL, as pg_terminate_backend sends, which may
// come after a commit) may hide a commit.
func TestOutcomeUnknown(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want bool
	}{
		{&pgconn.PgError{Severity: "ERROR", Code: "23505"}, false},
		{fenced(&pgconn.PgError{Severity: "ERROR", Code: fenceCode}), false},
		{&pgconn.PgError{Severity: "FATAL", Code: "57P01"}, true},
		{io.ErrUnexpectedEOF, true},
	} {
		if got := outcomeUnknown(tc.err); got != tc.want {
			t.Errorf("%v: outcome unknown %v, want %v", tc.err, got, tc.want)
		}
	}
}
