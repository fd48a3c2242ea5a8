package mail

import (
	"bytes"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"net/textproto"
	"strings"
	"time"
)

// build renders m as an RFC 5322 message with CRLF line endings: the
// headers, then a quoted-printable text/plain body, or a
// multipart/alternative of text and HTML when m.HTML is set. m must have
// passed check. Dot-stuffing is left to the SMTP client.
func build(m Message, from, to *netmail.Address, date time.Time, messageID string) ([]byte, error) {
	var b bytes.Buffer
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("Date", date.Format(time.RFC1123Z))
	header("From", from.String())
	header("To", to.String())
	header("Subject", mime.QEncoding.Encode("utf-8", m.Subject))
	header("Message-ID", messageID)
	header("MIME-Version", "1.0")
	// RFC 3834: tells auto-responders (out-of-office replies) to stay quiet.
	header("Auto-Submitted", "auto-generated")

	if m.HTML == "" {
		header("Content-Type", "text/plain; charset=utf-8")
		header("Content-Transfer-Encoding", "quoted-printable")
		b.WriteString("\r\n")
		if err := writeQP(&b, m.Text); err != nil {
			return nil, err
		}
		return b.Bytes(), nil
	}

	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	header("Content-Type", mime.FormatMediaType("multipart/alternative", map[string]string{"boundary": mw.Boundary()}))
	b.WriteString("\r\n")
	// Parts go from the plainest to the richest (RFC 2046 §5.1.4).
	for _, part := range []struct{ typ, content string }{
		{"text/plain; charset=utf-8", m.Text},
		{"text/html; charset=utf-8", m.HTML},
	} {
		w, err := mw.CreatePart(textproto.MIMEHeader{
			"Content-Type":              {part.typ},
			"Content-Transfer-Encoding": {"quoted-printable"},
		})
		if err != nil {
			return nil, err
		}
		if err := writeQP(w, part.content); err != nil {
			return nil, err
		}
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	b.Write(body.Bytes())
	return b.Bytes(), nil
}

// writeQP writes s quoted-printable encoded, with CRLF line breaks and a
// final one.
func writeQP(w interface{ Write([]byte) (int, error) }, s string) error {
	qp := quotedprintable.NewWriter(w)
	if !strings.HasSuffix(s, "\n") {
		s += "\n"
	}
	if _, err := qp.Write([]byte(s)); err != nil {
		return err
	}
	return qp.Close()
}

// newMessageID returns a unique Message-ID in the domain of the sender's
// address.
func newMessageID(from *netmail.Address) string {
	var r [16]byte
	rand.Read(r[:]) // never fails (crypto/rand)
	domain := from.Address[strings.LastIndexByte(from.Address, '@')+1:]
	return "<" + hex.EncodeToString(r[:]) + "@" + domain + ">"
}
