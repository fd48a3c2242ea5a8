// Package mailtest holds the contract suite of mail.MailStore, run against
// every store, and Store, an in-memory MailStore for tests of the packages
// that send mail.
package mailtest

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mail"
)

// Store is an in-memory mail.MailStore. The zero value is ready to use.
type Store struct {
	mu    sync.Mutex
	mails []mail.Stored // in ID order
}

var _ mail.MailStore = (*Store)(nil)

// SaveMail implements mail.MailStore.
func (s *Store) SaveMail(ctx context.Context, m *mail.Stored) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	m.ID = int64(len(s.mails)) + 1
	m.To = strings.ToLower(strings.TrimSpace(m.To))
	s.mails = append(s.mails, *m)
	return nil
}

// Mails implements mail.MailStore.
func (s *Store) Mails(ctx context.Context, to string, limit int) ([]mail.Stored, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	to = strings.ToLower(strings.TrimSpace(to))
	var out []mail.Stored
	for i := len(s.mails) - 1; i >= 0 && (limit <= 0 || len(out) < limit); i-- {
		if to == "" || s.mails[i].To == to {
			out = append(out, s.mails[i])
		}
	}
	return out, nil
}

// Mail implements mail.MailStore.
func (s *Store) Mail(ctx context.Context, id int64) (mail.Stored, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if id < 1 || id > int64(len(s.mails)) {
		return mail.Stored{}, fmt.Errorf("mail %d: %w", id, twinex.ErrNotFound)
	}
	return s.mails[id-1], nil
}

// Run is the contract suite of mail.MailStore: newStore returns an empty
// store, closed by the test's cleanup.
func Run(t *testing.T, newStore func(t *testing.T) mail.MailStore) {
	ctx := context.Background()

	t.Run("SaveAndRead", func(t *testing.T) {
		s := newStore(t)
		m := mail.Stored{To: " Alice@Example.COM", Subject: "Héllo", Text: "line 1\r\nline 2\n", HTML: "<p>hi</p>", Created: 1700000000123456789}
		if err := s.SaveMail(ctx, &m); err != nil {
			t.Fatal(err)
		}
		if m.ID == 0 || m.To != "alice@example.com" {
			t.Fatalf("saved %+v: want an ID and the address lower-cased", m)
		}
		got, err := s.Mail(ctx, m.ID)
		if err != nil || !reflect.DeepEqual(got, m) {
			t.Fatalf("Mail(%d) = %+v, %v; want %+v", m.ID, got, err, m)
		}
		if _, err := s.Mail(ctx, m.ID+1000); !errors.Is(err, twinex.ErrNotFound) {
			t.Fatalf("missing mail: %v, want ErrNotFound", err)
		}
	})

	t.Run("ListNewestFirst", func(t *testing.T) {
		s := newStore(t)
		var saved []mail.Stored
		for i, to := range []string{"a@x.com", "b@x.com", "a@x.com", "A@X.com", "b@x.com"} {
			m := mail.Stored{To: to, Subject: fmt.Sprint("mail ", i), Text: "t", Created: int64(i)}
			if err := s.SaveMail(ctx, &m); err != nil {
				t.Fatal(err)
			}
			if len(saved) > 0 && m.ID <= saved[len(saved)-1].ID {
				t.Fatalf("IDs must rise: %d after %d", m.ID, saved[len(saved)-1].ID)
			}
			saved = append(saved, m)
		}
		subjects := func(ms []mail.Stored) string {
			var out []string
			for _, m := range ms {
				out = append(out, m.Subject)
			}
			return strings.Join(out, ",")
		}
		for _, c := range []struct {
			to    string
			limit int
			want  string
		}{
			{"a@x.com", 10, "mail 3,mail 2,mail 0"},
			{"A@x.COM", 2, "mail 3,mail 2"},
			{"b@x.com", 0, "mail 4,mail 1"},
			{"", 3, "mail 4,mail 3,mail 2"},
			{"", -1, "mail 4,mail 3,mail 2,mail 1,mail 0"},
			{"c@x.com", 10, ""},
		} {
			got, err := s.Mails(ctx, c.to, c.limit)
			if err != nil {
				t.Fatal(err)
			}
			if subjects(got) != c.want {
				t.Errorf("Mails(%q, %d) = %q, want %q", c.to, c.limit, subjects(got), c.want)
			}
		}
		got, err := s.Mails(ctx, "b@x.com", 1)
		if err != nil || len(got) != 1 || !reflect.DeepEqual(got[0], saved[4]) {
			t.Fatalf("Mails = %+v, %v; want %+v", got, err, saved[4])
		}
	})
}

// RunReopen checks that mail sent through a Mailbox on a store is read back
// after the store is closed and opened again, as the sandbox dashboard
// does after a restart. open opens the store kept in dir and returns how
// to close it.
func RunReopen(t *testing.T, open func(t *testing.T, dir string) (mail.MailStore, func())) {
	ctx := context.Background()
	dir := t.TempDir()
	now := time.Date(2025, 3, 1, 12, 0, 0, 0, time.UTC)
	s, closeFn := open(t, dir)
	box := mail.NewMailbox(s, func() time.Time { return now })
	if err := box.Send(ctx, mail.Message{To: "New User <New.User@Example.com>", Subject: "Confirm your email address", Text: "https://twinex.test/verify?t=abc\n"}); err != nil {
		t.Fatal(err)
	}
	closeFn()

	s, closeFn = open(t, dir)
	defer closeFn()
	box = mail.NewMailbox(s, nil)
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
