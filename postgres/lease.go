package postgres

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// ErrFenced is wrapped by the exchange's writes (Commit, Project,
// Checkpoint, SetJournalID, the journal's Append and Truncate, and the
// key writes UpdateKey and TouchKeys) of a store whose fencing token
// (SetFence) no longer leads: another server took over, and nothing was
// written.
var ErrFenced = errors.New("fenced: another server took over the lease")

// ErrDeposed is returned by Renew when the token no longer leads.
var ErrDeposed = errors.New("deposed: another server holds the lease")

// fenceCode is the SQLSTATE twinex_fence raises (migration 0103).
const fenceCode = "TX001"

// fenceSQL is the first statement of every fenced write.
const fenceSQL = `SELECT twinex_fence($1)`

// fenced maps the fence's error to ErrFenced, keeping the rest.
func fenced(err error) error {
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == fenceCode {
		return fmt.Errorf("%w (%s)", ErrFenced, pe.Message)
	}
	return err
}

// Leader is the lease as last read: who holds it, where it serves, its
// token, and whether it has lapsed by the database's clock.
type Leader struct {
	Holder  string
	Addr    string
	Token   int64
	Expired bool
}

// Acquire takes the lease for holder (serving at addr) for ttl, by the
// database's clock, if no one holds it or its holder let it lapse. It
// returns the new fencing token, or 0 and the current leader when the
// lease is held. The takeover's UPDATE waits for the fenced writes already
// past their fence (they hold the row FOR KEY SHARE, and the token is a key
// column); every later one fails
// with ErrFenced. If it waits too long, a write of the previous holder is
// stuck half-sent (its process frozen): Acquire then ends that holder's
// database sessions (those whose application_name is AppName of its
// holder name; see WithAppName), which rolls the write back, and tries
// once more.
func (db *DB) Acquire(ctx context.Context, holder, addr string, ttl time.Duration) (int64, Leader, error) {
	lp, err := db.leasePool()
	if err != nil {
		return 0, Leader{}, err
	}
	var cur Leader
	err = lp.QueryRow(ctx, `SELECT holder, addr, token, lease_until < now() FROM leader WHERE id = 1`).
		Scan(&cur.Holder, &cur.Addr, &cur.Token, &cur.Expired)
	if errors.Is(err, pgx.ErrNoRows) {
		var token int64
		err := lp.QueryRow(ctx, `INSERT INTO leader (id, holder, addr, token, lease_until)
			VALUES (1, $1, $2, 1, now() + $3 * interval '1 millisecond') ON CONFLICT (id) DO NOTHING RETURNING token`,
			holder, addr, ttl.Milliseconds()).Scan(&token)
		if errors.Is(err, pgx.ErrNoRows) {
			return 0, cur, nil // another server was first
		}
		if err != nil {
			return 0, cur, fmt.Errorf("acquire lease: %w", err)
		}
		return token, Leader{Holder: holder, Addr: addr, Token: token}, nil
	}
	if err != nil {
		return 0, cur, fmt.Errorf("acquire lease: %w", err)
	}
	if !cur.Expired {
		return 0, cur, nil
	}
	token, err := db.takeOver(ctx, holder, addr, ttl, cur.Token)
	var pe *pgconn.PgError
	if errors.As(err, &pe) && pe.Code == "55P03" && cur.Holder != holder { // lock_not_available
		if _, err := lp.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
			WHERE application_name = $1 AND pid <> pg_backend_pid()`, AppName(cur.Holder)); err != nil {
			return 0, cur, fmt.Errorf("acquire lease: end the previous holder's sessions: %w", err)
		}
		token, err = db.takeOver(ctx, holder, addr, ttl, cur.Token)
	}
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, cur, nil // renewed, or taken by another server, meanwhile
	case errors.As(err, &pe) && pe.Code == "55P03":
		return 0, cur, nil // try again at the next poll
	case err != nil:
		return 0, cur, fmt.Errorf("acquire lease: %w", err)
	}
	return token, Leader{Holder: holder, Addr: addr, Token: token}, nil
}

// takeOver raises the token of a lapsed lease (still at token old) and
// gives it to holder, waiting at most a second for the row lock.
func (db *DB) takeOver(ctx context.Context, holder, addr string, ttl time.Duration, old int64) (int64, error) {
	lp, err := db.leasePool()
	if err != nil {
		return 0, err
	}
	var token int64
	err = pgx.BeginFunc(ctx, lp, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SET LOCAL lock_timeout = '1s'`); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `UPDATE leader SET token = token + 1, holder = $1, addr = $2, lease_until = now() + $3 * interval '1 millisecond'
			WHERE id = 1 AND token = $4 AND lease_until < now() RETURNING token`, holder, addr, ttl.Milliseconds(), old).Scan(&token)
	})
	return token, err
}

// Renew extends the lease of token for ttl from now by the database's
// clock. It returns ErrDeposed when token no longer leads.
func (db *DB) Renew(ctx context.Context, token int64, ttl time.Duration) error {
	lp, err := db.leasePool()
	if err != nil {
		return err
	}
	tag, err := lp.Exec(ctx, `UPDATE leader SET lease_until = now() + $2 * interval '1 millisecond' WHERE id = 1 AND token = $1`, token, ttl.Milliseconds())
	if err != nil {
		return fmt.Errorf("renew lease: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return ErrDeposed
	}
	return nil
}

// Resign ends the lease of token at once, so that a standby takes over
// without waiting for it to lapse (a clean shutdown, a step-down). It does
// nothing if token no longer leads.
func (db *DB) Resign(ctx context.Context, token int64) error {
	lp, err := db.leasePool()
	if err != nil {
		return err
	}
	if _, err := lp.Exec(ctx, `UPDATE leader SET lease_until = now() - interval '1 millisecond' WHERE id = 1 AND token = $1`, token); err != nil {
		return fmt.Errorf("resign lease: %w", err)
	}
	return nil
}

// CurrentLeader reads the lease; ok is false when no server ever led.
func (db *DB) CurrentLeader(ctx context.Context) (l Leader, ok bool, err error) {
	lp, err := db.leasePool()
	if err != nil {
		return l, false, err
	}
	err = lp.QueryRow(ctx, `SELECT holder, addr, token, lease_until < now() FROM leader WHERE id = 1`).
		Scan(&l.Holder, &l.Addr, &l.Token, &l.Expired)
	if errors.Is(err, pgx.ErrNoRows) {
		return l, false, nil
	}
	if err != nil {
		return l, false, fmt.Errorf("current leader: %w", err)
	}
	return l, true, nil
}

// SetFence makes every exchange write of the store (and its key writes)
// start with the fence for token, so that it fails with ErrFenced, writing
// nothing, once another server took the lease. 0 (the default) writes
// unfenced, for a store that only one process uses. Call it before the
// store is shared between goroutines.
func (db *DB) SetFence(token int64) { db.fence = token }

// SetFence is DB.SetFence for the journal's Append and Truncate.
func (j *Journal) SetFence(token int64) { j.fence = token }

// AppName is the application_name of the database sessions of the server
// named holder (at most 63 bytes, PostgreSQL's limit): Acquire ends them
// when it takes over from that server.
func AppName(holder string) string {
	if len(holder) > 63 {
		return holder[:63]
	}
	return holder
}

// WithAppName returns the connection string u (a postgres:// URL or a
// key=value string) with application_name set to AppName(holder), so that
// the sessions it opens are the holder's in pg_stat_activity (Acquire ends
// them when it takes over from a lapsed holder).
func WithAppName(u, holder string) (string, error) {
	return withParam(u, "application_name", AppName(holder))
}

// withParam returns the connection string u with the setting key=value.
func withParam(u, key, value string) (string, error) {
	if strings.HasPrefix(u, "postgres://") || strings.HasPrefix(u, "postgresql://") {
		p, err := url.Parse(u)
		if err != nil {
			return "", errors.New("store URL does not parse") // the text could hold a password
		}
		q := p.Query()
		q.Set(key, value)
		p.RawQuery = q.Encode()
		return p.String(), nil
	}
	return u + " " + key + "='" + strings.NewReplacer(`\`, `\\`, `'`, `\'`).Replace(value) + "'", nil
}

// NewSchema creates an empty schema named prefix plus a random suffix in
// the database at u, and returns u choosing it (search_path) and a
// function that drops it with everything in it: a store of its own for a
// benchmark.
func NewSchema(ctx context.Context, u, prefix string) (string, func(context.Context) error, error) {
	var b [6]byte
	rand.Read(b[:])
	name := prefix + hex.EncodeToString(b[:])
	conn, err := pgx.Connect(ctx, u)
	if err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	defer conn.Close(context.Background())
	if _, err := conn.Exec(ctx, `CREATE SCHEMA `+pgx.Identifier{name}.Sanitize()); err != nil {
		return "", nil, fmt.Errorf("create schema: %w", err)
	}
	drop := func(ctx context.Context) error {
		conn, err := pgx.Connect(ctx, u)
		if err != nil {
			return fmt.Errorf("drop schema %s: %w", name, err)
		}
		defer conn.Close(context.Background())
		if _, err := conn.Exec(ctx, `DROP SCHEMA `+pgx.Identifier{name}.Sanitize()+` CASCADE`); err != nil {
			return fmt.Errorf("drop schema %s: %w", name, err)
		}
		return nil
	}
	su, err := withParam(u, "search_path", name)
	if err != nil {
		drop(ctx)
		return "", nil, err
	}
	return su, drop, nil
}

// leasePool is the lease's own pool of at most two connections, opened at
// its first use: a leader's renewals must not queue behind the exchange's
// reads and writes for one of the main pool's connections, or a busy
// leader would lose its lease to a standby for nothing.
func (db *DB) leasePool() (*pgxpool.Pool, error) {
	db.leaseOnce.Do(func() {
		c := db.poolCfg.Copy()
		c.MaxConns, c.MinConns = 2, 0
		db.leaseP, db.leaseErr = pgxpool.NewWithConfig(context.Background(), c)
		if db.leaseErr != nil {
			db.leaseErr = fmt.Errorf("lease: %w", db.leaseErr)
		}
	})
	return db.leaseP, db.leaseErr
}
