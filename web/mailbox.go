package web

import (
	"context"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mail"
)

// Mailbox is the sandbox's store of outgoing mail, shown at /mailbox so
// that sign-up works with nothing else installed. Production has none.
//
// Who reads what: the mail holds sign-in links (verification, password
// reset), so a reader of someone else's mail could take the account over.
// A client on this machine and the signed-in operator read all of it
// (onThisMachine says what "this machine" takes): that is the developer running the
// sandbox for themselves. Anyone else reads only the mail sent to the
// address they are signed in with, and nothing while signed out; so on a
// shared sandbox a user signs up, logs in and finds the verification mail
// there, and a forgotten password needs the operator (or SMTP).
type Mailbox interface {
	Mails(ctx context.Context, to string, limit int) ([]mail.Stored, error)
	Mail(ctx context.Context, id int64) (mail.Stored, error)
}

// mailboxReader says whose mail the caller may read: all (the empty
// address and true), one address's, or none (ok false).
func (s *Server) mailboxReader(r *http.Request) (own string, all, ok bool) {
	st := state(r)
	if onThisMachine(r, st.ip) {
		return "", true, true
	}
	if s.isOperator(r) {
		return "", true, true
	}
	if st.user != nil {
		return st.user.Email, false, true
	}
	return "", false, false
}

// onThisMachine reports whether a request comes from a browser on the
// machine running the server: the client address (after trusted proxies)
// is loopback, no proxy header says otherwise, and the Host names this
// machine. A tunnel or a local reverse proxy (ngrok, ssh -R, an nginx not
// listed in TWINEX_TRUSTED_PROXIES) also connects from loopback, but
// forwards a public Host or a forwarding header, so its visitors are not
// taken for the developer.
func onThisMachine(r *http.Request, ip string) bool {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Unmap().IsLoopback() {
		return false
	}
	if r.Header.Get("X-Forwarded-For") != "" || r.Header.Get("Forwarded") != "" || r.Header.Get("X-Real-Ip") != "" {
		return false
	}
	_, _, ok := loopbackHost(r.Host)
	return ok
}

type mailboxView struct {
	List []mail.Stored
	Own  string // the signed-in user's address when only their mail is shown
}

func (s *Server) mailboxRefused(w http.ResponseWriter, r *http.Request) {
	s.render(w, r, http.StatusForbidden, "mailboxclosed.html", view{Title: "Sandbox mailbox", Nav: "mailbox"})
}

func (s *Server) mailboxList(w http.ResponseWriter, r *http.Request) {
	own, all, ok := s.mailboxReader(r)
	if !ok {
		s.mailboxRefused(w, r)
		return
	}
	to := strings.TrimSpace(r.URL.Query().Get("to"))
	if !all {
		to = own
	}
	list, err := s.Mailbox.Mails(r.Context(), to, 100)
	if err != nil {
		s.Logger.Error("web: mailbox", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The mailbox could not be read.")
		return
	}
	v := mailboxView{List: list}
	if !all {
		v.Own = own
	}
	s.render(w, r, http.StatusOK, "mailbox.html", view{Title: "Sandbox mailbox", Nav: "mailbox",
		Form: map[string]string{"to": to}, Data: v})
}

func (s *Server) mailboxMessage(w http.ResponseWriter, r *http.Request) {
	own, all, ok := s.mailboxReader(r)
	if !ok {
		s.mailboxRefused(w, r)
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "Message not found", "There is no such message in the sandbox mailbox.")
		return
	}
	m, err := s.Mailbox.Mail(r.Context(), id)
	if err == nil && !all && !strings.EqualFold(m.To, own) {
		err = twinex.ErrNotFound // someone else's: not found, not forbidden
	}
	if errors.Is(err, twinex.ErrNotFound) {
		s.errorPage(w, r, http.StatusNotFound, "Message not found", "There is no such message in the sandbox mailbox.")
		return
	}
	if err != nil {
		s.Logger.Error("web: mailbox", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The mailbox could not be read.")
		return
	}
	s.render(w, r, http.StatusOK, "mailmessage.html", view{Title: m.Subject, Nav: "mailbox",
		Data: struct {
			Mail mail.Stored
			Body template.HTML
		}{m, linkify(m.Text, r.Host)}})
}

// linkify escapes a plain-text mail and makes the links to this site
// clickable; any other URL stays text.
func linkify(text, host string) template.HTML {
	var b strings.Builder
	for i, line := range strings.Split(text, "\n") {
		if i > 0 {
			b.WriteString("\n")
		}
		for j, word := range strings.Split(line, " ") {
			if j > 0 {
				b.WriteString(" ")
			}
			if u, err := url.Parse(word); err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host == host {
				e := html.EscapeString(word)
				b.WriteString(`<a href="` + e + `">` + e + `</a>`)
				continue
			}
			b.WriteString(html.EscapeString(word))
		}
	}
	return template.HTML(b.String())
}
