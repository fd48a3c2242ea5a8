package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/twinex/twinex/mail"
)

var _ mail.MailStore = (*DB)(nil)

// SaveMail implements mail.MailStore.
func (db *DB) SaveMail(ctx context.Context, m *mail.Stored) error {
	m.To = strings.ToLower(strings.TrimSpace(m.To))
	err := db.pool.QueryRow(ctx, `INSERT INTO mailbox (to_addr, subject, text, html, created)
		VALUES ($1, $2, $3, $4, $5) RETURNING id`, m.To, m.Subject, m.Text, m.HTML, m.Created).Scan(&m.ID)
	if err != nil {
		return fmt.Errorf("save mail: %w", err)
	}
	return nil
}

const mailCols = `id, to_addr, subject, text, html, created`

func mailFields(m *mail.Stored) []any {
	return []any{&m.ID, &m.To, &m.Subject, &m.Text, &m.HTML, &m.Created}
}

// Mails implements mail.MailStore; a limit of 0 or less lists them all.
func (db *DB) Mails(ctx context.Context, to string, limit int) ([]mail.Stored, error) {
	var w where
	if to = strings.ToLower(strings.TrimSpace(to)); to != "" {
		w.add("to_addr = ?", to)
	}
	tail, more := ` ORDER BY id DESC`, []any(nil)
	if limit > 0 {
		tail, more = tail+` LIMIT ?`, []any{limit}
	}
	q, args := w.sql(`SELECT `+mailCols+` FROM mailbox`, tail, more...)
	return queryAll(ctx, db.pool, "mails", mailFields, q, args...)
}

// Mail implements mail.MailStore.
func (db *DB) Mail(ctx context.Context, id int64) (mail.Stored, error) {
	var m mail.Stored
	err := queryOne(ctx, db.pool, fmt.Sprintf("mail %d", id), mailFields(&m), `SELECT `+mailCols+` FROM mailbox WHERE id = $1`, id)
	return m, err
}
