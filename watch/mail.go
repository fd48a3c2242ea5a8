package watch

// Alert mail: its subject and text, and sending it.

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mail"
)

func (w *Watcher) send(ctx context.Context, a twinex.Alert) {
	u, err := w.Accounts.User(ctx, a.UserID)
	if err != nil {
		w.log().Error("watch: alert mail: user", "user", a.UserID, "err", err)
		return
	}
	sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	if err := w.Mail.Send(sctx, mail.Message{To: u.Email, Subject: Subject(a), Text: mailText(a, w.BaseURL)}); err != nil {
		w.log().Error("watch: alert mail", "alert", a.ID, "err", err)
	}
}

// Titles are the alerts' headings, by kind.
var Titles = map[twinex.AlertKind]string{
	twinex.AlertNewIP:     "API key used from a new address",
	twinex.AlertAllowlist: "Request blocked by an IP allowlist",
	twinex.AlertSpike:     "Unusual request volume",
	twinex.AlertBadSig:    "Repeated bad signatures",
	twinex.AlertExpiring:  "API key about to expire",
	twinex.AlertUnused:    "API key unused",
	twinex.AlertQuota:     "Daily quota nearly used",
	twinex.AlertLeaked:    "API secret found in public: key revoked",
}

// Subject is an alert mail's subject.
func Subject(a twinex.Alert) string {
	return "Twinex alert: " + Titles[a.Kind] + " (" + a.KeyID + ")"
}

func mailText(a twinex.Alert, base string) string {
	link := strings.TrimRight(base, "/") + fmt.Sprintf("/settings/alerts#alert-%d", a.ID)
	if base == "" {
		link = "the Alerts page of your Twinex dashboard"
	}
	action := "If you do not recognise this, revoke the key at once:"
	if a.Kind == twinex.AlertLeaked {
		action = "The key no longer works. Review it here:"
	}
	return fmt.Sprintf("%s\n\n%s\n\n%s\n%s\n\nThis alert is sent once; it stays on your dashboard until you dismiss it.\n",
		Titles[a.Kind], a.Message, action, link)
}

// durationText says a window in words for an alert ("10 minutes", "24
// hours", "90 seconds"), never Go's "10m0s".
func durationText(d time.Duration) string {
	unit := func(n int64, one string) string {
		if n == 1 {
			return "1 " + one
		}
		return strconv.FormatInt(n, 10) + " " + one + "s"
	}
	switch {
	case d >= time.Hour && d%time.Hour == 0:
		return unit(int64(d/time.Hour), "hour")
	case d >= time.Minute && d%time.Minute == 0:
		return unit(int64(d/time.Minute), "minute")
	}
	return unit(int64(d.Round(time.Second)/time.Second), "second")
}
