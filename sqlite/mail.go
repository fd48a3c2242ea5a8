package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mail"
)

var _ mail.MailStore = (*DB)(nil)

// SaveMail implements mail.MailStore.
func (db *DB) SaveMail(ctx context.Context, m *mail.Stored) error {
	m.To = strings.ToLower(strings.TrimSpace(m.To))
	err := db.w.QueryRowContext(ctx, `INSERT INTO mailbox (to_addr, subject, text, html, created)
		VALUES (?, ?, ?, ?, ?) RETURNING id`, m.To, m.Subject, m.Text, m.HTML, m.Created).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("save mail: %w", err)
	}
	return nil
}

const mailCols = `id, to_addr, subject, text, html, created`

func scanMail(s rowScanner, m *mail.Stored) error {
	return s.Scan(&m.ID, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Created)
}

// Mails implements mail.MailStore.
func (db *DB) Mails(ctx context.Context, to string, limit int) ([]mail.Stored, error) {
	if limit <= 0 {
		limit = -1 // SQLite: no limit
	}
	q, args := `SELECT `+mailCols+` FROM mailbox ORDER BY id DESC LIMIT ?`, []any{limit}
	if to = strings.ToLower(strings.TrimSpace(to)); to != "" {
		q, args = `SELECT `+mailCols+` FROM mailbox WHERE to_addr = ? ORDER BY id DESC LIMIT ?`, []any{to, limit}
	}
	return queryRows(ctx, db.r, "mails", scanInto(scanMail), q, args...)
}

// Mail implements mail.MailStore.
func (db *DB) Mail(ctx context.Context, id int64) (mail.Stored, error) {
	var m mail.Stored
	err := scanMail(db.r.QueryRowContext(ctx, `SELECT `+mailCols+` FROM mailbox WHERE id = ?`, id), &m)
	if errors.Is(err, sql.ErrNoRows) {
		return m, fmt.Errorf("mail %d: %w", id, twinex.ErrNotFound)
	}
	if err != nil {
		return m, fmt.Errorf("mail: %w", err)
	}
	return m, nil
}
