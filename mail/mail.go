// Package mail sends Twinex's account mail: the SMTP sender for real
// deployments, the Mailbox that keeps outgoing mail in the store for the
// sandbox dashboard when no SMTP server is configured, and the texts of the
// mails themselves.
//
// The package imports the domain and the standard library only; stores
// implement MailStore (package sqlite does), never the other way round.
package mail

import (
	"context"
	"errors"
	"fmt"
	netmail "net/mail"
	"strings"
	"unicode/utf8"
)

// Message is one outgoing mail to one recipient. Text is required; HTML is
// optional and, when set, is sent as the alternative to Text.
type Message struct {
	To      string // an address, optionally with a display name
	Subject string
	Text    string
	HTML    string
}

// Sender sends a Message. Implementations are safe for concurrent use.
type Sender interface {
	Send(ctx context.Context, m Message) error
}

// ErrInvalidMessage is returned by Send when a Message cannot be sent as
// given: a bad or missing recipient, a line break or control character in To
// or Subject (which could otherwise inject headers), or an empty Text.
var ErrInvalidMessage = errors.New("invalid message")

// maxSubject caps Subject in bytes, far below SMTP's 998-byte line limit
// once encoded.
const maxSubject = 400

// check validates m and returns its parsed recipient.
func (m Message) check() (*netmail.Address, error) {
	to, err := parseAddress(m.To)
	if err != nil {
		return nil, fmt.Errorf("%w: to: %v", ErrInvalidMessage, err)
	}
	if hasControl(m.Subject) {
		return nil, fmt.Errorf("%w: subject contains a line break or control character", ErrInvalidMessage)
	}
	if len(m.Subject) > maxSubject {
		return nil, fmt.Errorf("%w: subject longer than %d bytes", ErrInvalidMessage, maxSubject)
	}
	if strings.TrimSpace(m.Text) == "" {
		return nil, fmt.Errorf("%w: empty text", ErrInvalidMessage)
	}
	return to, nil
}

// parseAddress parses one RFC 5322 address, refusing control characters
// before the parser sees them.
func parseAddress(s string) (*netmail.Address, error) {
	if hasControl(s) {
		return nil, errors.New("contains a line break or control character")
	}
	a, err := netmail.ParseAddress(s)
	if err != nil {
		return nil, fmt.Errorf("%q is not an email address", s)
	}
	if hasControl(a.Name) || hasControl(a.Address) {
		// Encoded words can decode to control characters.
		return nil, errors.New("contains a line break or control character")
	}
	return a, nil
}

// hasControl reports whether s holds a control character (CR and LF among
// them) or invalid UTF-8.
func hasControl(s string) bool {
	if !utf8.ValidString(s) {
		return true
	}
	for _, r := range s {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' {
			return true
		}
	}
	return false
}
