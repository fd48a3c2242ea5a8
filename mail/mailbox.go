package mail

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Stored is a mail kept by a Mailbox. Created is in Unix nanoseconds.
type Stored struct {
	ID      int64
	To      string // the bare recipient address, lower case
	Subject string
	Text    string
	HTML    string
	Created int64
}

// MailStore keeps the mails of a Mailbox.
type MailStore interface {
	// SaveMail stores m and sets its ID; IDs rise with each mail saved. The
	// store lower-cases m.To.
	SaveMail(ctx context.Context, m *Stored) error
	// Mails lists the mails to the address to (matched in any case; every
	// recipient's when to is ""), newest first, at most limit of them (no
	// limit when limit <= 0).
	Mails(ctx context.Context, to string, limit int) ([]Stored, error)
	// Mail returns the mail with the given id, or an error wrapping
	// twinex.ErrNotFound when there is none.
	Mail(ctx context.Context, id int64) (Stored, error)
}

// Mailbox is the sandbox's Sender when no SMTP server is configured: it
// keeps each mail in a MailStore, for the dashboard to show, so that sign-up
// works with nothing else installed. It must never serve a real deployment:
// whoever can read the mailbox page can read everyone's reset links.
type Mailbox struct {
	store MailStore
	now   func() time.Time
}

var _ Sender = (*Mailbox)(nil)

// NewMailbox returns a Mailbox keeping mail in store, stamped with now
// (time.Now when nil).
func NewMailbox(store MailStore, now func() time.Time) *Mailbox {
	if now == nil {
		now = time.Now
	}
	return &Mailbox{store: store, now: now}
}

// Send stores m. It checks m as SMTP.Send does, returning an error wrapping
// ErrInvalidMessage for a message SMTP would refuse, so the sandbox fails
// where production would.
func (b *Mailbox) Send(ctx context.Context, m Message) error {
	to, err := m.check()
	if err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	s := Stored{
		To:      strings.ToLower(to.Address),
		Subject: m.Subject,
		Text:    m.Text,
		HTML:    m.HTML,
		Created: b.now().UnixNano(),
	}
	if err := b.store.SaveMail(ctx, &s); err != nil {
		return fmt.Errorf("mailbox: %w", err)
	}
	return nil
}

// Mails lists the kept mails to the address to (everyone's when to is ""),
// newest first, at most limit (no limit when limit <= 0).
func (b *Mailbox) Mails(ctx context.Context, to string, limit int) ([]Stored, error) {
	ms, err := b.store.Mails(ctx, to, limit)
	if err != nil {
		return nil, fmt.Errorf("mailbox: %w", err)
	}
	return ms, nil
}

// Mail returns the kept mail with the given id; the error wraps
// twinex.ErrNotFound when there is none.
func (b *Mailbox) Mail(ctx context.Context, id int64) (Stored, error) {
	m, err := b.store.Mail(ctx, id)
	if err != nil {
		return m, fmt.Errorf("mailbox: %w", err)
	}
	return m, nil
}
