package mail_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/mail/mailtest"
)

// TestMemStore runs the store contract on the in-memory store the other
// tests rely on; package sqlite runs it on the real one.
func TestMemStore(t *testing.T) {
	mailtest.Run(t, func(t *testing.T) mail.MailStore { return &mailtest.Store{} })
}

// mailStoreSpy counts SaveMail calls and stores nothing.
type mailStoreSpy struct {
	mailtest.Store
	saves int
	err   error
}

func (s *mailStoreSpy) SaveMail(ctx context.Context, m *mail.Stored) error {
	s.saves++
	if s.err != nil {
		return s.err
	}
	return s.Store.SaveMail(ctx, m)
}

func TestMailbox(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	store := &mailStoreSpy{}
	box := mail.NewMailbox(store, func() time.Time { return now })

	m := mail.Message{To: "Alice <Alice@Example.com>", Subject: "Héllo", Text: "text", HTML: "<p>html</p>"}
	if err := box.Send(ctx, m); err != nil {
		t.Fatal(err)
	}
	now = now.Add(time.Second)
	if err := box.Send(ctx, resetMail("alice@example.com", "https://x.test/r")); err != nil {
		t.Fatal(err)
	}
	if err := box.Send(ctx, resetMail("bob@example.com", "https://x.test/r")); err != nil {
		t.Fatal(err)
	}
	got, err := box.Mails(ctx, "ALICE@example.com", 10)
	if err != nil || len(got) != 2 {
		t.Fatalf("Mails = %+v, %v", got, err)
	}
	want := mail.Stored{ID: 1, To: "alice@example.com", Subject: "Héllo", Text: "text", HTML: "<p>html</p>", Created: time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC).UnixNano()}
	if got[1] != want || got[0].Subject != "Reset your password" || got[0].Created != now.UnixNano() {
		t.Fatalf("Mails = %+v", got)
	}
	if one, err := box.Mail(ctx, 1); err != nil || one != want {
		t.Fatalf("Mail(1) = %+v, %v", one, err)
	}
	if _, err := box.Mail(ctx, 99); !errors.Is(err, twinex.ErrNotFound) {
		t.Fatalf("Mail(99): %v, want ErrNotFound", err)
	}
	if all, _ := box.Mails(ctx, "", 0); len(all) != 3 {
		t.Fatalf("all mails: %d", len(all))
	}

	store.err = errors.New("disk full")
	if err := box.Send(ctx, m); !errors.Is(err, store.err) {
		t.Fatalf("Send with a failing store: %v", err)
	}
	if err := box.Send(ctx, mail.Message{To: "x\r\n@y", Text: "t"}); !errors.Is(err, mail.ErrInvalidMessage) || store.saves != 4 {
		t.Fatalf("invalid message: %v after %d saves", err, store.saves)
	}
}

// verifyMail and resetMail are messages shaped like the dashboard's: a
// subject, and the link on a line of its own.
func verifyMail(to, link string) mail.Message {
	return mail.Message{To: to, Subject: "Confirm your email address", Text: "Confirm your address:\n" + link + "\n"}
}

func resetMail(to, link string) mail.Message {
	return mail.Message{To: to, Subject: "Reset your password", Text: "Choose a new password:\n" + link + "\n"}
}
