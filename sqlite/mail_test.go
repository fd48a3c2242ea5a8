package sqlite_test

import (
	"path/filepath"
	"testing"

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

// TestMailboxSurvivesReopen: the sandbox's mailbox is still there after a
// restart.
func TestMailboxSurvivesReopen(t *testing.T) {
	mailtest.RunReopen(t, func(t *testing.T, dir string) (mail.MailStore, func()) {
		db := open(t, filepath.Join(dir, "twinex.db"))
		return db, func() { db.Close() }
	})
}
