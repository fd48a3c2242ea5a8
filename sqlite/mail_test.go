package sqlite_test

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/mail/mailtest"
)

func TestMailStore(t *testing.T) {
	mailtest.Run(t, func(t *testing.T) mail.MailStore {
		db := open(t, filepath.Join(t.TempDir(), "twinex.db"))
		t.Cleanup(func() { db.Close() })
		return db
	})
}

// TestMailboxSurvivesReopen sends through a Mailbox on the SQLite store and
// reads the mail back after reopening the file, as the sandbox dashboard
// does after a restart.
func TestMailboxSurvivesReopen(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "twinex.db")
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	db := open(t, path)
	box := mail.NewMailbox(db, func() time.Time { return now })
	if err := box.Send(ctx, mail.Message{To: "New User <New.User@Example.com>", Subject: "Confirm your email address", Text: "https://twinex.test/verify?t=abc\n"}); err != nil {
		t.Fatal(err)
	}
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	db = open(t, path)
	defer db.Close()
	box = mail.NewMailbox(db, nil)
	ms, err := box.Mails(ctx, "new.user@example.com", 10)
	if err != nil || len(ms) != 1 {
		t.Fatalf("Mails = %+v, %v; want one mail", ms, err)
	}
	m := ms[0]
	if m.To != "new.user@example.com" || m.Subject != "Confirm your email address" ||
		!strings.Contains(m.Text, "https://twinex.test/verify?t=abc") || m.Created != now.UnixNano() {
		t.Fatalf("stored %+v", m)
	}
	if got, err := box.Mail(ctx, m.ID); err != nil || got != m {
		t.Fatalf("Mail(%d) = %+v, %v", m.ID, got, err)
	}
}
