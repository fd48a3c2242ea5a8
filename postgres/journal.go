package postgres

import (
	"cmp"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/twinex/twinex"
)

// Journal is the command journal as a table of PostgreSQL (migration
// 0101): one row per record with the CRC-32C of its data, appended in a
// transaction whose commit waits for the write-ahead log to be flushed,
// the shape of the SQLite store's table journal. It keeps a connection of
// its own, so that its appends never queue behind the projection's
// writes or the pool's readers.
//
// The journal lives in the same database and schema as the store it
// journals for, so that backing up, replicating or failing over one covers
// both.
type Journal struct {
	mu   sync.Mutex
	conn *pgx.Conn
	id   string
	last uint64
	// failed is the error of a failed append, after which the journal
	// refuses appends: the commit may have happened with its answer lost,
	// so what the table holds is known again only on reopening.
	failed error
	// fence is the fencing token Append and Truncate check first
	// (SetFence); 0: none.
	fence int64
}

var _ twinex.Journal = (*Journal)(nil)

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// OpenJournal opens the journal in the database at url (as Open: a
// postgres:// URL or a key=value string, search_path choosing the schema),
// applying the migrations the database lacks. A new journal is given a
// random id.
func OpenJournal(ctx context.Context, url string) (*Journal, error) {
	cfg, err := pgx.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	if err := migrate(ctx, cfg); err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open journal: %w", err)
	}
	j := &Journal{conn: conn}
	if err := j.init(ctx); err != nil {
		conn.Close(context.Background())
		return nil, fmt.Errorf("open journal: %w", err)
	}
	return j, nil
}

func (j *Journal) init(ctx context.Context) error {
	if err := setDurability(ctx, j.conn, true); err != nil {
		return err
	}
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return err
	}
	// Two servers opening a new journal at once agree on the first id.
	if _, err := j.conn.Exec(ctx, `INSERT INTO journal_id (id, value) VALUES (1, $1) ON CONFLICT (id) DO NOTHING`,
		hex.EncodeToString(b[:])); err != nil {
		return err
	}
	if err := j.conn.QueryRow(ctx, `SELECT value FROM journal_id WHERE id = 1`).Scan(&j.id); err != nil {
		return err
	}
	var last int64
	if err := j.conn.QueryRow(ctx, `SELECT COALESCE(MAX(seq), 0) FROM journal`).Scan(&last); err != nil {
		return err
	}
	j.last = uint64(last)
	return nil
}

// Append inserts the records with one statement, in one transaction whose
// commit is durable, after the fence when the journal has one (SetFence):
// a deposed leader's append fails with ErrFenced. After a failed append it
// refuses every append.
func (j *Journal) Append(ctx context.Context, recs []twinex.JournalRecord) error {
	if len(recs) == 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.failed != nil {
		return fmt.Errorf("journal: an earlier append failed (%v); reopen the journal", j.failed)
	}
	last := j.last
	seqs, crcs, data := make([]int64, len(recs)), make([]int64, len(recs)), make([][]byte, len(recs))
	for i, r := range recs {
		if r.Seq <= last {
			return fmt.Errorf("journal: sequence %d after %d", r.Seq, last)
		}
		last = r.Seq
		seqs[i], crcs[i], data[i] = int64(r.Seq), int64(crc32.Checksum(r.Data, castagnoli)), r.Data
	}
	var err error
	if len(recs) == 1 {
		err = exec(ctx, j.conn, j.fence, `INSERT INTO journal (seq, crc, data) VALUES ($1, $2, $3)`, seqs[0], crcs[0], data[0])
	} else {
		err = exec(ctx, j.conn, j.fence, `INSERT INTO journal (seq, crc, data) SELECT * FROM unnest($1::bigint[], $2::bigint[], $3::bytea[])`,
			seqs, crcs, data)
	}
	if err != nil {
		j.failed = err
		if outcomeUnknown(err) {
			// The records may be in the table, and the next leader (or
			// this server, reopened) replays them: the callers must not
			// be told that their commands were not executed.
			return fmt.Errorf("journal: append: %w: %w", err, twinex.ErrOutcomeUnknown)
		}
		return fmt.Errorf("journal: append: %w", err)
	}
	j.last = last
	return nil
}

// outcomeUnknown reports whether a failed write may have committed all
// the same. An ERROR from the server (the fence's among them), or a
// failure before anything was sent, means that nothing was written. A
// connection that broke once the statements were sent may have lost the
// answer to a commit, and a session the server ended (FATAL: a takeover's
// pg_terminate_backend, a shutdown) may have committed before it ended
// (a wait for a synchronous standby cut short commits locally).
func outcomeUnknown(err error) bool {
	if errors.Is(err, ErrFenced) {
		return false // the fence's ERROR, which fenced keeps only as text
	}
	var pe *pgconn.PgError
	if errors.As(err, &pe) {
		return cmp.Or(pe.SeverityUnlocalized, pe.Severity) != "ERROR"
	}
	return !pgconn.SafeToRetry(err)
}

// Replay reads the records after the given sequence, in order, checking
// each one's checksum. It refuses when records after that sequence were
// dropped by Truncate.
func (j *Journal) Replay(ctx context.Context, after uint64, fn func(twinex.JournalRecord) error) error {
	var cut int64
	if err := j.conn.QueryRow(ctx, `SELECT COALESCE((SELECT through FROM journal_cut WHERE id = 1), 0)`).Scan(&cut); err != nil {
		return fmt.Errorf("journal: replay: %w", err)
	}
	if uint64(cut) > after {
		return twinex.JournalGap(after, uint64(cut))
	}
	rows, err := j.conn.Query(ctx, `SELECT seq, crc, data FROM journal WHERE seq > $1 ORDER BY seq`, int64(after))
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
			return fmt.Errorf("journal: record %d: checksum does not match; restore the database from a backup", seq)
		}
		if err := fn(twinex.JournalRecord{Seq: uint64(seq), Data: data}); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("journal: replay: %w", err)
	}
	return nil
}

// Truncate deletes the records up to through.
func (j *Journal) Truncate(ctx context.Context, through uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if err := exec(ctx, j.conn, j.fence, `WITH d AS (DELETE FROM journal WHERE seq <= $1)
		INSERT INTO journal_cut (id, through) VALUES (1, $1)
		ON CONFLICT (id) DO UPDATE SET through = GREATEST(journal_cut.through, excluded.through)`, int64(through)); err != nil {
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

// Close closes the journal's connection.
func (j *Journal) Close() error {
	return j.conn.Close(context.Background())
}
