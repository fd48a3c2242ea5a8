package mail_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net"
	netmail "net/mail"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex/mail"
)

const testFrom = "Twinex <no-reply@twinex.test>"

var testNow = time.Date(2025, 3, 1, 12, 0, 0, 0, time.FixedZone("", 3600))

// newSender returns an SMTP sender for url with the pinned clock, trusting
// ts's certificate.
func newSender(t *testing.T, ts *testServer, url string) *mail.SMTP {
	t.Helper()
	s, err := mail.NewSMTP(url, testFrom)
	if err != nil {
		t.Fatal(err)
	}
	s.Now = func() time.Time { return testNow }
	s.RootCAs = ts.Roots
	return s
}

func authURL(scheme string, ts *testServer) string {
	return scheme + "://twinex:s3cret%20p%40ss@" + ts.Addr
}

// one returns the single mail ts received.
func one(t *testing.T, ts *testServer) received {
	t.Helper()
	ms := ts.Mails()
	if len(ms) != 1 {
		t.Fatalf("server received %d mails, want 1", len(ms))
	}
	return ms[0]
}

// parsed is a received message taken apart.
type parsed struct {
	Header  netmail.Header
	Subject string // decoded
	Text    string // decoded text/plain body, line breaks as \n
	HTML    string // decoded text/html part, if any
}

func parse(t *testing.T, raw []byte) parsed {
	t.Helper()
	if i := bytes.IndexByte(raw, '\n'); i >= 0 {
		for j := 0; j < len(raw); j++ {
			if raw[j] == '\n' && (j == 0 || raw[j-1] != '\r') {
				t.Fatalf("bare LF at byte %d of\n%s", j, raw)
			}
		}
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(raw))
	if err != nil {
		t.Fatal(err)
	}
	var p parsed
	p.Header = msg.Header
	if p.Subject, err = new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); err != nil {
		t.Fatal(err)
	}
	typ, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	decode := func(h interface{ Get(string) string }, r io.Reader) string {
		if h.Get("Content-Transfer-Encoding") != "quoted-printable" {
			t.Fatalf("Content-Transfer-Encoding %q", h.Get("Content-Transfer-Encoding"))
		}
		b, err := io.ReadAll(quotedprintable.NewReader(r))
		if err != nil {
			t.Fatal(err)
		}
		return strings.ReplaceAll(string(b), "\r\n", "\n")
	}
	switch typ {
	case "text/plain":
		if params["charset"] != "utf-8" {
			t.Fatalf("charset %q", params["charset"])
		}
		p.Text = decode(msg.Header, msg.Body)
	case "multipart/alternative":
		mr := multipart.NewReader(msg.Body, params["boundary"])
		for i := 0; ; i++ {
			part, err := mr.NextRawPart() // raw: keep the transfer encoding
			if err == io.EOF {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			switch ct := part.Header.Get("Content-Type"); {
			case i == 0 && ct == "text/plain; charset=utf-8":
				p.Text = decode(part.Header, part)
			case i == 1 && ct == "text/html; charset=utf-8":
				p.HTML = decode(part.Header, part)
			default:
				t.Fatalf("part %d has type %q", i, ct)
			}
		}
	default:
		t.Fatalf("Content-Type %q", typ)
	}
	return p
}

var messageIDRE = regexp.MustCompile(`^<[0-9a-f]{32}@twinex\.test>$`)

// checkHeaders checks the headers every mail has.
func checkHeaders(t *testing.T, p parsed, to string) {
	t.Helper()
	for k, want := range map[string]string{
		"Date":         "Sat, 01 Mar 2025 12:00:00 +0100",
		"From":         `"Twinex" <no-reply@twinex.test>`,
		"To":           to,
		"MIME-Version": "1.0",
	} {
		if got := p.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if id := p.Header.Get("Message-ID"); !messageIDRE.MatchString(id) {
		t.Errorf("Message-ID %q", id)
	}
}

func TestSendStartTLS(t *testing.T) {
	ts := startServer(t, modeStartTLS)
	s := newSender(t, ts, authURL("smtp", ts))
	if err := s.Send(context.Background(), verifyMail("alice@example.com", "https://twinex.test/verify?token=t0k3n")); err != nil {
		t.Fatal(err)
	}
	r := one(t, ts)
	if !r.TLS || !r.Authed || r.From != "no-reply@twinex.test" || r.To != "alice@example.com" {
		t.Fatalf("received %+v", r)
	}
	p := parse(t, r.Data)
	checkHeaders(t, p, "<alice@example.com>")
	if p.Subject != "Confirm your email address" || !strings.Contains(p.Text, "\nhttps://twinex.test/verify?token=t0k3n\n") {
		t.Fatalf("subject %q, text:\n%s", p.Subject, p.Text)
	}
}

func TestSendImplicitTLS(t *testing.T) {
	ts := startServer(t, modeImplicit)
	s := newSender(t, ts, authURL("smtps", ts))
	if err := s.Send(context.Background(), resetMail("Bob <bob@example.com>", "https://twinex.test/reset?token=r3s3t")); err != nil {
		t.Fatal(err)
	}
	r := one(t, ts)
	if !r.TLS || !r.Authed || r.To != "bob@example.com" {
		t.Fatalf("received %+v", r)
	}
	p := parse(t, r.Data)
	checkHeaders(t, p, `"Bob" <bob@example.com>`)
	if !strings.Contains(p.Text, "https://twinex.test/reset?token=r3s3t") {
		t.Fatalf("text:\n%s", p.Text)
	}
}

func TestSendPlainToLoopback(t *testing.T) {
	ts := startServer(t, modePlain)
	s := newSender(t, ts, authURL("smtp", ts)+"?starttls=false")
	if err := s.Send(context.Background(), verifyMail("alice@example.com", "https://x.test/v")); err != nil {
		t.Fatal(err)
	}
	if r := one(t, ts); r.TLS || !r.Authed {
		t.Fatalf("received %+v", r)
	}
}

func TestSendInsecureSkipVerifyOnLoopback(t *testing.T) {
	ts := startServer(t, modeStartTLS)
	s, err := mail.NewSMTP(authURL("smtp", ts)+"?insecure_skip_verify=true", testFrom)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Send(context.Background(), verifyMail("alice@example.com", "https://x.test/v")); err != nil {
		t.Fatal(err)
	}
	if r := one(t, ts); !r.TLS {
		t.Fatalf("received %+v", r)
	}
}

// TestSendFailures are servers a sender must not deliver to, or cannot.
func TestSendFailures(t *testing.T) {
	for _, c := range []struct {
		name  string
		mode  serverMode
		url   func(ts *testServer) string
		roots bool
		want  string
	}{
		{"UntrustedCertificate", modeStartTLS, func(ts *testServer) string { return authURL("smtp", ts) }, false, "certificate"},
		{"UntrustedCertificateImplicit", modeImplicit, func(ts *testServer) string { return authURL("smtps", ts) }, false, "certificate"},
		// A server (or an attacker on the path) not offering STARTTLS gets
		// no password and no mail.
		{"NoSTARTTLS", modePlain, func(ts *testServer) string { return authURL("smtp", ts) }, true, "STARTTLS"},
		{"WrongPassword", modeStartTLS, func(ts *testServer) string { return "smtp://twinex:wrong@" + ts.Addr }, true, "auth"},
		{"NoCredentials", modeStartTLS, func(ts *testServer) string { return "smtp://" + ts.Addr }, true, "authenticate"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, c.mode)
			s := newSender(t, ts, c.url(ts))
			if !c.roots {
				s.RootCAs = nil
			}
			err := s.Send(context.Background(), verifyMail("alice@example.com", "https://x.test/v"))
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Fatalf("Send: %v, want an error about %s", err, c.want)
			}
			if strings.Contains(err.Error(), testPass) {
				t.Fatalf("error shows the password: %v", err)
			}
			if n := len(ts.Mails()); n != 0 {
				t.Fatalf("server received %d mails", n)
			}
		})
	}
}

// TestSendTimeout talks to a server that accepts and then says nothing.
func TestSendTimeout(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	s, err := mail.NewSMTP("smtp://"+l.Addr().String(), testFrom)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		name string
		ctx  func() (context.Context, context.CancelFunc)
		want error
	}{
		{"Deadline", func() (context.Context, context.CancelFunc) {
			return context.WithTimeout(context.Background(), 200*time.Millisecond)
		}, context.DeadlineExceeded},
		{"Canceled", func() (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(context.Background())
			time.AfterFunc(200*time.Millisecond, cancel)
			return ctx, cancel
		}, context.Canceled},
	} {
		t.Run(c.name, func(t *testing.T) {
			ctx, cancel := c.ctx()
			defer cancel()
			start := time.Now()
			err := s.Send(ctx, verifyMail("alice@example.com", "https://x.test/v"))
			if !errors.Is(err, c.want) {
				t.Fatalf("Send: %v, want %v", err, c.want)
			}
			if d := time.Since(start); d > 5*time.Second {
				t.Fatalf("Send took %v", d)
			}
		})
	}
	t.Run("DefaultTimeout", func(t *testing.T) {
		s.Timeout = 200 * time.Millisecond
		if err := s.Send(context.Background(), verifyMail("alice@example.com", "https://x.test/v")); !errors.Is(err, context.DeadlineExceeded) {
			t.Fatalf("Send: %v, want a deadline error", err)
		}
	})
}

// TestSendMessageFormat checks an encoded subject, the HTML alternative and
// dot-stuffing through a real server.
func TestSendMessageFormat(t *testing.T) {
	ts := startServer(t, modeStartTLS)
	s := newSender(t, ts, authURL("smtp", ts))
	text := "Grüße,\n.\n..two dots\n.\r\nend of the line " + strings.Repeat("long ", 40) + "\nlast"
	m := mail.Message{
		To:      "Zoë Δ <zoe@example.com>",
		Subject: "Bestätigung — ✓",
		Text:    text,
		HTML:    "<p>Grüße</p>\n<p>.</p>",
	}
	if err := s.Send(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	r := one(t, ts)
	if r.To != "zoe@example.com" {
		t.Fatalf("envelope to %q", r.To)
	}
	p := parse(t, r.Data)
	checkHeaders(t, p, "=?utf-8?q?Zo=C3=AB_=CE=94?= <zoe@example.com>")
	raw := p.Header.Get("Subject")
	if !strings.HasPrefix(raw, "=?utf-8?q?") || p.Subject != m.Subject {
		t.Fatalf("Subject %q decodes to %q, want %q", raw, p.Subject, m.Subject)
	}
	ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
	if ct != "multipart/alternative" {
		t.Fatalf("Content-Type %q", ct)
	}
	wantText := strings.ReplaceAll(text, "\r\n", "\n") + "\n"
	if p.Text != wantText {
		t.Fatalf("text %q\nwant %q", p.Text, wantText)
	}
	if p.HTML != m.HTML+"\n" {
		t.Fatalf("html %q", p.HTML)
	}
	for _, line := range strings.Split(string(r.Data), "\r\n") {
		if len(line) > 78 && !strings.HasPrefix(line, "Content-Type:") {
			t.Fatalf("line of %d bytes: %q", len(line), line)
		}
	}
}

// TestSendRefusesInjection checks that a header cannot be smuggled in
// through To or Subject: the message is refused before connecting.
func TestSendRefusesInjection(t *testing.T) {
	ts := startServer(t, modeStartTLS)
	s := newSender(t, ts, authURL("smtp", ts))
	box := mail.NewMailbox(&mailStoreSpy{}, nil)
	ok := verifyMail("alice@example.com", "https://x.test/v")
	for name, m := range map[string]mail.Message{
		"ToCRLF":         {To: "alice@example.com\r\nBcc: eve@evil.test", Subject: ok.Subject, Text: ok.Text},
		"ToLF":           {To: "alice@example.com\nBcc: eve@evil.test", Subject: ok.Subject, Text: ok.Text},
		"ToNameCRLF":     {To: "\"Alice\r\nBcc: eve@evil.test\" <alice@example.com>", Subject: ok.Subject, Text: ok.Text},
		"ToEncodedCRLF":  {To: "=?utf-8?q?Alice=0D=0ABcc:_eve@evil.test?= <alice@example.com>", Subject: ok.Subject, Text: ok.Text},
		"ToTwo":          {To: "alice@example.com, eve@evil.test", Subject: ok.Subject, Text: ok.Text},
		"ToNotAnAddress": {To: "alice", Subject: ok.Subject, Text: ok.Text},
		"ToEmpty":        {Subject: ok.Subject, Text: ok.Text},
		"SubjectCRLF":    {To: ok.To, Subject: "Hi\r\nBcc: eve@evil.test", Text: ok.Text},
		"SubjectCR":      {To: ok.To, Subject: "Hi\rBcc: eve@evil.test", Text: ok.Text},
		"SubjectLF":      {To: ok.To, Subject: "Hi\nBcc: eve@evil.test", Text: ok.Text},
		"SubjectNUL":     {To: ok.To, Subject: "Hi\x00", Text: ok.Text},
		"SubjectTooLong": {To: ok.To, Subject: strings.Repeat("x", 1000), Text: ok.Text},
		"EmptyText":      {To: ok.To, Subject: ok.Subject, Text: " \n"},
	} {
		t.Run(name, func(t *testing.T) {
			if err := s.Send(context.Background(), m); !errors.Is(err, mail.ErrInvalidMessage) {
				t.Errorf("SMTP.Send: %v, want ErrInvalidMessage", err)
			}
			if err := box.Send(context.Background(), m); !errors.Is(err, mail.ErrInvalidMessage) {
				t.Errorf("Mailbox.Send: %v, want ErrInvalidMessage", err)
			}
		})
	}
	if n := len(ts.Mails()); n != 0 {
		t.Fatalf("server received %d mails", n)
	}
}

func TestNewSMTP(t *testing.T) {
	ok := []string{
		"smtp://user:pass@mail.example.com:587",
		"smtp://mail.example.com",
		"smtps://user:pass@mail.example.com:465",
		"smtps://mail.example.com/",
		"smtp://user:pass@127.0.0.1:2525?starttls=false",
		"smtp://localhost:25?starttls=false&insecure_skip_verify=true",
		"smtp://[::1]:25?starttls=false",
		"smtps://127.0.0.1:4650?insecure_skip_verify=true",
		"smtp://mail.example.com?starttls=true&insecure_skip_verify=false",
	}
	for _, u := range ok {
		if _, err := mail.NewSMTP(u, testFrom); err != nil {
			t.Errorf("NewSMTP(%q): %v", u, err)
		}
	}
	s, _ := mail.NewSMTP("smtps://mail.example.com", testFrom)
	if s.Addr() != "mail.example.com:465" {
		t.Errorf("default smtps address %q", s.Addr())
	}
	s, _ = mail.NewSMTP("smtp://mail.example.com", testFrom)
	if s.Addr() != "mail.example.com:587" {
		t.Errorf("default smtp address %q", s.Addr())
	}

	insecure := []string{
		// Plain-text AUTH, and mail, over a network: refused for any host
		// but loopback. Nothing connects: NewSMTP only checks the URL.
		"smtp://user:hunter2@mail.example.com:587?starttls=false",
		"smtp://mail.example.com:25?starttls=false",
		"smtp://user:hunter2@10.0.0.1:587?starttls=false",
		"smtp://user:hunter2@localhost.example.com?starttls=0",
		"smtp://user:hunter2@mail.example.com?insecure_skip_verify=true",
		"smtps://user:hunter2@192.168.1.1?insecure_skip_verify=1",
	}
	for _, u := range insecure {
		_, err := mail.NewSMTP(u, testFrom)
		if !errors.Is(err, mail.ErrInsecure) {
			t.Errorf("NewSMTP(%q): %v, want ErrInsecure", u, err)
		}
	}

	bad := []string{
		"",
		"mail.example.com:587",
		"http://user:hunter2@mail.example.com",
		"smtp://",
		"smtp://user:hunter2@",
		"smtp://user:hunter2@mail.example.com:port",
		"smtp://user:hunter2@mail.example.com:0",
		"smtp://user:hunter2@mail.example.com:70000",
		"smtp://user:hunter2@mail.example.com/inbox",
		"smtp://user:hunter2@mail.example.com?tls=true",
		"smtp://user:hunter2@mail.example.com?starttls=maybe",
		"smtp://user:hunter2@mail.example.com?starttls=true&starttls=true",
		"smtps://user:hunter2@127.0.0.1?starttls=false",
		"smtp://user:hunter2@mail.example.com%0d%0a",
		"smtp://user:hunter2@mail.example.com\r\n",
		"smtp:user:hunter2@mail.example.com",
	}
	for _, u := range bad {
		_, err := mail.NewSMTP(u, testFrom)
		if err == nil {
			t.Errorf("NewSMTP(%q) succeeded", u)
			continue
		}
		if strings.Contains(err.Error(), "hunter2") {
			t.Errorf("NewSMTP(%q): error shows the password: %v", u, err)
		}
	}
	for _, from := range []string{"", "no-reply", "a@b.test\r\nBcc: eve@evil.test", "a@b.test, c@d.test"} {
		if _, err := mail.NewSMTP("smtp://mail.example.com", from); err == nil {
			t.Errorf("NewSMTP from %q succeeded", from)
		}
	}
}
