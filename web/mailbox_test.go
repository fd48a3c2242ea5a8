package web_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	mailpkg "github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/web"
)

// memMailbox keeps the env's sent mail as a sandbox mailbox.
type memMailbox struct{ e *env }

func (m memMailbox) Mails(ctx context.Context, to string, limit int) ([]mailpkg.Stored, error) {
	var out []mailpkg.Stored
	for i, x := range m.e.mailsTo(to) {
		out = append(out, mailpkg.Stored{ID: int64(i + 1), To: x.To, Subject: x.Subject, Text: x.Text})
	}
	if to == "" {
		m.e.mu.Lock()
		defer m.e.mu.Unlock()
		for i, x := range m.e.mails {
			out = append(out, mailpkg.Stored{ID: int64(i + 1), To: x.To, Subject: x.Subject, Text: x.Text})
		}
	}
	return out, nil
}

func (m memMailbox) Mail(ctx context.Context, id int64) (mailpkg.Stored, error) {
	m.e.mu.Lock()
	defer m.e.mu.Unlock()
	if id < 1 || int(id) > len(m.e.mails) {
		return mailpkg.Stored{}, twinex.ErrNotFound
	}
	x := m.e.mails[id-1]
	return mailpkg.Stored{ID: id, To: x.To, Subject: x.Subject, Text: x.Text}, nil
}

// The mailbox holds sign-in links: the whole of it is for this machine
// (and the operator); anyone else reads only their own mail, signed in.
func TestMailboxIsOpenToLoopbackAndToEachOwner(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox = true })
	// The mailbox reads the env's mail, so it is wired after newEnv.
	e.srv.Mailbox = memMailbox{e}
	e.h = e.srv.Handler()

	remote := e.browser("203.0.113.9")
	remote.signup("ann@example.com", goodPassword)
	e.browser("203.0.113.10").signup("bob@example.com", goodPassword)

	// Signed out, from another machine: refused, told why.
	p := remote.get("/mailbox")
	wantStatus(t, p, http.StatusForbidden)
	wantBody(t, p, "only to a browser on the machine that runs this sandbox")
	wantStatus(t, remote.get("/mailbox/1"), http.StatusForbidden)

	// Signed in: only their own mail, whatever the filter asks.
	remote.login("ann@example.com", goodPassword)
	p = remote.get("/mailbox?to=bob@example.com")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "ann@example.com", "You see the mail sent to")
	if strings.Contains(p.Body, "bob@example.com") {
		t.Fatalf("ann sees bob's mail:\n%s", p.Body)
	}
	wantStatus(t, remote.get("/mailbox/1"), http.StatusOK)
	wantStatus(t, remote.get("/mailbox/2"), http.StatusNotFound) // bob's

	// A tunnel or local proxy also connects from loopback, but forwards
	// a public Host or a forwarding header: its visitors are not this
	// machine.
	tunnel := e.browser("127.0.0.1")
	wantStatus(t, tunnel.get("/mailbox"), http.StatusForbidden) // Host twinex.test
	e.base = "http://127.0.0.1:8080"
	proxied := e.browser("127.0.0.1")
	req := httptest.NewRequest(http.MethodGet, e.base+"/mailbox", nil)
	req.Header.Set("X-Forwarded-For", "198.51.100.7")
	wantStatus(t, proxied.do(req), http.StatusForbidden)

	// This machine sees everything.
	local := e.browser("127.0.0.1")
	p = local.get("/mailbox")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "ann@example.com", "bob@example.com")
	wantStatus(t, local.get("/mailbox/2"), http.StatusOK)
}

// TestOperatorReadsTheMailbox: the operator, signed in at /operator from
// another machine, reads every message.
func TestOperatorReadsTheMailbox(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.Sandbox = true; s.AdminToken = "operator-token-123" })
	e.srv.Mailbox = memMailbox{e}
	e.h = e.srv.Handler()
	e.browser("203.0.113.10").signup("bob@example.com", goodPassword)
	op := e.browser("203.0.113.50")
	wantStatus(t, op.get("/mailbox"), http.StatusForbidden)
	op.get("/operator/login")
	wantStatus(t, op.post("/operator/login", url.Values{"token": {"operator-token-123"}}), http.StatusSeeOther)
	p := op.get("/mailbox")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "bob@example.com")
}
