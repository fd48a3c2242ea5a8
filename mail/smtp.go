package mail

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	netmail "net/mail"
	"net/smtp"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// ErrInsecure is returned by NewSMTP for a URL that would send mail, or a
// password, in plain text (or to an unverified server) over a network: that
// is allowed to loopback hosts only.
var ErrInsecure = errors.New("insecure mail server settings")

// DefaultTimeout bounds a Send whose context has no deadline.
const DefaultTimeout = 30 * time.Second

// SMTP sends mail through an SMTP submission server, always over TLS unless
// the server is on the loopback interface. Configure it with NewSMTP; the
// exported fields are optional and must be set before the first Send.
type SMTP struct {
	// Now is the clock for the Date header; time.Now by default.
	Now func() time.Time
	// Timeout bounds a Send whose context has no deadline; DefaultTimeout
	// by default.
	Timeout time.Duration
	// RootCAs verifies the server's certificate; nil uses the system's
	// roots.
	RootCAs *x509.CertPool
	// Hello is the name the client gives in EHLO; "localhost" by default.
	Hello string

	addr       string // host:port
	host       string
	implicit   bool // smtps: TLS from the first byte
	startTLS   bool // smtp: STARTTLS before anything else
	skipVerify bool
	user, pass string
	auth       bool
	from       *netmail.Address
}

var _ Sender = (*SMTP)(nil)

// NewSMTP returns a sender for the server at rawURL, sending from the
// address from (which may carry a display name, "Twinex <no-reply@x.com>").
//
// The URL forms are
//
//	smtp://user:pass@host:587    STARTTLS, required (587 if no port)
//	smtps://user:pass@host:465   TLS from the first byte (465 if no port)
//
// The user and password are optional (no AUTH without them) and must be
// URL-escaped; AUTH PLAIN is used, only ever over TLS or loopback. Query
// parameters, both for loopback hosts only (tests, a local relay):
//
//	starttls=false               smtp:// without TLS
//	insecure_skip_verify=true    do not verify the server's certificate
//
// Loopback hosts are "localhost" and loopback IP literals; names are not
// resolved. NewSMTP returns an error wrapping ErrInsecure when a parameter
// is given for another host; other errors describe a malformed URL and never
// contain the password.
func NewSMTP(rawURL string, from string) (*SMTP, error) {
	s, err := parseSMTPURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("smtp url: %w", err)
	}
	if s.from, err = parseAddress(from); err != nil {
		return nil, fmt.Errorf("smtp from: %w", err)
	}
	return s, nil
}

func parseSMTPURL(rawURL string) (*SMTP, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		// url.Error quotes the URL, password included.
		return nil, errors.New("malformed URL")
	}
	s := &SMTP{}
	var port string
	switch u.Scheme {
	case "smtp":
		s.startTLS, port = true, "587"
	case "smtps":
		s.implicit, port = true, "465"
	default:
		return nil, fmt.Errorf("scheme %q: want smtp or smtps", u.Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return nil, errors.New("want smtp[s]://[user:pass@]host[:port][?params], without a path")
	}
	s.host = u.Hostname()
	if s.host == "" {
		return nil, errors.New("no host")
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return nil, fmt.Errorf("bad port %q", p)
		}
		port = p
	}
	s.addr = net.JoinHostPort(s.host, port)
	if u.User != nil {
		s.user = u.User.Username()
		s.pass, _ = u.User.Password()
		s.auth = s.user != ""
	}
	loopback := isLoopback(s.host)
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, errors.New("malformed query")
	}
	for k, vs := range q {
		if len(vs) != 1 {
			return nil, fmt.Errorf("parameter %s given %d times", k, len(vs))
		}
		v, err := strconv.ParseBool(vs[0])
		if err != nil {
			return nil, fmt.Errorf("parameter %s=%q: want true or false", k, vs[0])
		}
		switch k {
		case "starttls":
			if s.implicit {
				return nil, errors.New("starttls is for smtp://; smtps:// uses TLS from the start")
			}
			if !v && !loopback {
				return nil, fmt.Errorf("%w: starttls=false sends mail and password in plain text; it is allowed for loopback hosts only", ErrInsecure)
			}
			s.startTLS = v
		case "insecure_skip_verify":
			if v && !loopback {
				return nil, fmt.Errorf("%w: insecure_skip_verify is allowed for loopback hosts only", ErrInsecure)
			}
			s.skipVerify = v
		default:
			return nil, fmt.Errorf("unknown parameter %q", k)
		}
	}
	return s, nil
}

// isLoopback reports whether host is "localhost" or a loopback IP literal.
// It resolves nothing: a name that happens to resolve to 127.0.0.1 today
// may not tomorrow.
func isLoopback(host string) bool {
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr returns the server's host:port, for logs.
func (s *SMTP) Addr() string { return s.addr }

// Send sends m. It returns an error wrapping ErrInvalidMessage, before
// connecting, if m cannot be sent as given; otherwise any error is the
// server's or the network's, wrapping ctx's error when ctx ended first. The
// whole exchange is bounded by ctx (or Timeout when ctx has no deadline).
func (s *SMTP) Send(ctx context.Context, m Message) error {
	to, err := m.check()
	if err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	now := time.Now
	if s.Now != nil {
		now = s.Now
	}
	raw, err := build(m, s.from, to, now(), newMessageID(s.from))
	if err != nil {
		return fmt.Errorf("send mail: %w", err)
	}
	if _, ok := ctx.Deadline(); !ok {
		timeout := s.Timeout
		if timeout <= 0 {
			timeout = DefaultTimeout
		}
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, timeout)
		defer cancel()
	}
	if err := s.send(ctx, to.Address, raw); err != nil {
		if ctx.Err() != nil {
			// The connection was closed under the client; say why.
			err = ctx.Err()
		}
		return fmt.Errorf("send mail via %s: %w", s.addr, err)
	}
	return nil
}

func (s *SMTP) tlsConfig() *tls.Config {
	return &tls.Config{
		ServerName:         s.host,
		RootCAs:            s.RootCAs,
		InsecureSkipVerify: s.skipVerify, // loopback only, checked by NewSMTP
		MinVersion:         tls.VersionTLS12,
	}
}

func (s *SMTP) send(ctx context.Context, to string, raw []byte) error {
	var conn net.Conn
	var err error
	if s.implicit {
		d := tls.Dialer{Config: s.tlsConfig()}
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	} else {
		var d net.Dialer
		conn, err = d.DialContext(ctx, "tcp", s.addr)
	}
	if err != nil {
		return err
	}
	// net/smtp takes no context: when ctx ends (Send gave it a deadline),
	// closing the connection under the client ends whatever it waits for.
	defer conn.Close()
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()

	c, err := smtp.NewClient(conn, s.host)
	if err != nil {
		return err
	}
	defer c.Close()
	hello := s.Hello
	if hello == "" {
		hello = "localhost"
	}
	if err := c.Hello(hello); err != nil {
		return err
	}
	if s.startTLS {
		if ok, _ := c.Extension("STARTTLS"); !ok {
			// Never fall back to plain text: an attacker on the path can
			// strip the STARTTLS offer.
			return errors.New("server does not offer STARTTLS, which is required")
		}
		if err := c.StartTLS(s.tlsConfig()); err != nil {
			return fmt.Errorf("starttls: %w", err)
		}
	}
	if s.auth {
		if ok, _ := c.Extension("AUTH"); !ok {
			return errors.New("server does not offer AUTH, but the URL has credentials")
		}
		// PlainAuth itself refuses to send the password over a connection
		// that is neither TLS nor to localhost: a second lock.
		if err := c.Auth(smtp.PlainAuth("", s.user, s.pass, s.host)); err != nil {
			return fmt.Errorf("auth: %w", err)
		}
	}
	if err := c.Mail(s.from.Address); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := w.Write(raw); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}
