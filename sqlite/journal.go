package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/twinex/twinex"
)

// Journal is the command journal as a table of batch blobs, in a SQLite
// file of its own (so that its appends never wait on the projection's
// writes to the main file): one row per record, appended in a transaction
// that syncs the write-ahead log. It is the journal's second home, measured
// against the files of package journal (docs/PERFORMANCE.md), and the shape
// a PostgreSQL journal takes.
type Journal struct {
	db   *sql.DB
	id   string
	mu   sync.Mutex
	last uint64
	ins  *sql.Stmt
}

var _ twinex.Journal = (*Journal)(nil)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenJournal opens (creating) the table journal in the file at path.
func OpenJournal(path string) (*Journal, error) {
	if err := private(path); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	db, err := sql.Open("sqlite", path+"?"+writerPragmas)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	single(db)
	j := &Journal{db: db}
	if err := j.init(context.Background()); err != nil {
		db.Close()
		return nil, fmt.Errorf("open journal %s: %w", path, err)
	}
	return j, nil
}

func (j *Journal) init(ctx context.Context) error {
	for _, q := range []string{
		`CREATE TABLE IF NOT EXISTS journal (seq INTEGER PRIMARY KEY, crc INTEGER NOT NULL, data BLOB NOT NULL)`,
		`CREATE TABLE IF NOT EXISTS journal_id (id INTEGER PRIMARY KEY CHECK (id = 1), value TEXT NOT NULL)`,
		// The largest sequence Truncate dropped through, so that a replay
		// from before it is refused rather than silently missing records.
		`CREATE TABLE IF NOT EXISTS journal_cut (id INTEGER PRIMARY KEY CHECK (id = 1), through INTEGER NOT NULL)`,
	} {
		if _, err := j.db.ExecContext(ctx, q); err != nil {
			return err
		}
	}
	err := j.db.QueryRowContext(ctx, `SELECT value FROM journal_id WHERE id = 1`).Scan(&j.id)
	if errors.Is(err, sql.ErrNoRows) {
		var b [16]byte
		if _, err := rand.Read(b[:]); err != nil {
			return err
		}
		j.id = hex.EncodeToString(b[:])
		_, err = j.db.ExecContext(ctx, `INSERT INTO journal_id (id, value) VALUES (1, ?)`, j.id)
	}
	if err != nil {
		return err
	}
	var last sql.NullInt64
	if err := j.db.QueryRowContext(ctx, `SELECT MAX(seq) FROM journal`).Scan(&last); err != nil {
		return err
	}
	j.last = uint64(last.Int64)
	j.ins, err = j.db.PrepareContext(ctx, `INSERT INTO journal (seq, crc, data) VALUES (?, ?, ?)`)
	return err
}

// Append inserts the records in one transaction.
func (j *Journal) Append(ctx context.Context, recs []twinex.JournalRecord) error {
	if len(recs) == 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	last := j.last
	for _, r := range recs {
		if r.Seq <= last {
			return fmt.Errorf("journal: sequence %d after %d", r.Seq, last)
		}
		last = r.Seq
	}
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: append: %w", err)
	}
	defer tx.Rollback()
	s := tx.StmtContext(ctx, j.ins)
	for _, r := range recs {
		if _, err := s.ExecContext(ctx, int64(r.Seq), int64(crc32.Checksum(r.Data, castagnoli)), r.Data); err != nil {
			return fmt.Errorf("journal: append: %w", err)
		}
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: append: %w", err)
	}
	j.last = last
	return nil
}

// Replay reads the records after the given sequence, checking each one's
// checksum. It refuses when records after that sequence were dropped by
// Truncate.
func (j *Journal) Replay(ctx context.Context, after uint64, fn func(twinex.JournalRecord) error) error {
	var cut int64
	if err := j.db.QueryRowContext(ctx, `SELECT COALESCE((SELECT through FROM journal_cut WHERE id = 1), 0)`).Scan(&cut); err != nil {
		return fmt.Errorf("journal: replay: %w", err)
	}
	if uint64(cut) > after {
		return twinex.JournalGap(after, uint64(cut))
	}
	rows, err := j.db.QueryContext(ctx, `SELECT seq, crc, data FROM journal WHERE seq > ? ORDER BY seq`, int64(after))
	if err != nil {
		return fmt.Errorf("journal: replay: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var seq, crc int64
		var data []byte
		if err := rows.Scan(&seq, &crc, &data); err != nil {
			return fmt.Errorf("journal: replay: %w", err)
		}
		if int64(crc32.Checksum(data, castagnoli)) != crc {
			return fmt.Errorf("journal: record %d: checksum does not match; restore the data directory from a backup", seq)
		}
		if err := fn(twinex.JournalRecord{Seq: uint64(seq), Data: data}); err != nil {
			return err
		}
	}
	return rows.Err()
}

// Truncate deletes the records up to through.
func (j *Journal) Truncate(ctx context.Context, through uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	tx, err := j.db.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("journal: truncate: %w", err)
	}
	defer tx.Rollback()
	if _, err := tx.ExecContext(ctx, `DELETE FROM journal WHERE seq <= ?`, int64(through)); err != nil {
		return fmt.Errorf("journal: truncate: %w", err)
	}
	if _, err := tx.ExecContext(ctx, `INSERT INTO journal_cut (id, through) VALUES (1, ?)
		ON CONFLICT (id) DO UPDATE SET through = max(through, excluded.through)`, int64(through)); err != nil {
		return fmt.Errorf("journal: truncate: %w", err)
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("journal: truncate: %w", err)
	}
	return nil
}

// Last returns the last sequence appended, or 0.
func (j *Journal) Last() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.last
}

// ID returns the journal's id.
func (j *Journal) ID() string { return j.id }

// Close closes the journal's file.
func (j *Journal) Close() error {
	if j.ins != nil {
		j.ins.Close()
	}
	return j.db.Close()
}
