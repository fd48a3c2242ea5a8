package web

import (
	"context"
	"errors"
	"html"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/mail"
)

// Mailbox is the sandbox's store of outgoing mail, shown at /mailbox so
// that sign-up works with nothing else installed. Production has none:
// whoever sees it can read every user's links.
type Mailbox interface {
	Mails(ctx context.Context, to string, limit int) ([]mail.Stored, error)
	Mail(ctx context.Context, id int64) (mail.Stored, error)
}

func (s *Server) mailboxList(w http.ResponseWriter, r *http.Request) {
	to := strings.TrimSpace(r.URL.Query().Get("to"))
	list, err := s.Mailbox.Mails(r.Context(), to, 100)
	if err != nil {
		s.Logger.Error("web: mailbox", "err", err)
		s.errorPage(w, r, http.StatusInternalServerError, "Something went wrong", "The mailbox could not be read.")
		return
	}
	s.render(w, r, http.StatusOK, "mailbox.html", view{Title: "Sandbox mailbox", Nav: "mailbox",
		Form: map[string]string{"to": to}, Data: list})
}

func (s *Server) mailboxMessage(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		s.errorPage(w, r, http.StatusNotFound, "Message not found", "There is no such message in the sandbox mailbox.")
		return
	}
	m, err := s.Mailbox.Mail(r.Context(), id)
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
