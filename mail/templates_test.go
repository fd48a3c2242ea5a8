package mail_test

import (
	"context"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex/mail"
)

// TestTemplates sends every account mail through a real SMTP server and
// reads it back as a mail client would.
func TestTemplates(t *testing.T) {
	const secret = "3go3SJmTwWpFq8rdEBQPuKZmNZGR" // a key secret, which no mail may carry
	key := mail.KeyInfo{
		ID:        "account-Zx9bQ2kLw4vT7",
		Label:     "grid bot\r\nBcc: eve@evil.test", // the user's own text, on one line
		Roles:     []string{"Trader", "FundManager"},
		Allowlist: []string{"203.0.113.7", "2001:db8::/32"},
		IP:        "198.51.100.23",
	}
	at := time.Date(2025, 3, 1, 11, 0, 0, 0, time.FixedZone("", -5*3600))
	for _, c := range []struct {
		name    string
		m       mail.Message
		subject string
		want    []string
	}{
		{"VerifyEmail", mail.VerifyEmail("alice@example.com", "https://twinex.test/verify?token=v3r1fy&x=1"),
			"Confirm your email address",
			[]string{"\nhttps://twinex.test/verify?token=v3r1fy&x=1\n", "If you did not sign up"}},
		{"PasswordReset", mail.PasswordReset("alice@example.com", "https://twinex.test/reset?token=r3s3t"),
			"Reset your password",
			[]string{"\nhttps://twinex.test/reset?token=r3s3t\n", "your password has not been changed"}},
		{"KeyCreated", mail.KeyCreated("alice@example.com", key),
			"New API key created",
			[]string{
				"  Key:              account-Zx9bQ2kLw4vT7\n",
				"  Label:            grid bot  Bcc: eve@evil.test\n",
				"  Roles:            Trader, FundManager\n",
				"  Allowlist:        203.0.113.7, 2001:db8::/32\n",
				"  Created from IP:  198.51.100.23\n",
				"never sent by email", "revoke it now",
			}},
		{"KeyCreatedNoAllowlist", mail.KeyCreated("alice@example.com", mail.KeyInfo{ID: "master-abc", Roles: []string{"Auditor"}, IP: "::1"}),
			"New API key created",
			[]string{"  Allowlist:        any IP address (no allowlist)\n", "  Created from IP:  ::1\n"}},
		{"KeyRotated", mail.KeyRotated("alice@example.com", key, at.Add(24*time.Hour)),
			"API key secret rotated",
			[]string{"account-Zx9bQ2kLw4vT7", "  Rotated from IP:  198.51.100.23\n", "keeps working until 2025-03-02 16:00:00 UTC"}},
		{"KeyRotatedAtOnce", mail.KeyRotated("alice@example.com", key, time.Time{}),
			"API key secret rotated",
			[]string{"The previous secret no longer works."}},
		{"KeyRevoked", mail.KeyRevoked("alice@example.com", key),
			"API key revoked",
			[]string{"account-Zx9bQ2kLw4vT7", "  Revoked from IP:  198.51.100.23\n", "It no longer works."}},
		{"NewLogin", mail.NewLogin("alice@example.com", "192.0.2.44", "Mozilla/5.0 (X11; Linux x86_64)", at),
			"New sign-in to your Twinex account",
			[]string{"  IP address:  192.0.2.44\n", "  Time:        2025-03-01 16:00:00 UTC\n", "  Browser:     Mozilla/5.0 (X11; Linux x86_64)\n", "change your password"}},
		{"NewLoginNoAgent", mail.NewLogin("alice@example.com", "192.0.2.44", "", at),
			"New sign-in to your Twinex account",
			[]string{"  IP address:  192.0.2.44\n"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts := startServer(t, modeStartTLS)
			s := newSender(t, ts, authURL("smtp", ts))
			if err := s.Send(context.Background(), c.m); err != nil {
				t.Fatal(err)
			}
			r := one(t, ts)
			p := parse(t, r.Data)
			checkHeaders(t, p, "<alice@example.com>")
			if p.Subject != c.subject {
				t.Errorf("subject %q, want %q", p.Subject, c.subject)
			}
			for _, w := range c.want {
				if !strings.Contains(p.Text, w) {
					t.Errorf("text lacks %q:\n%s", w, p.Text)
				}
			}
			if strings.Contains(string(r.Data), secret) || strings.Contains(strings.ToLower(p.Text), "secret:") {
				t.Errorf("mail carries a secret:\n%s", p.Text)
			}
			if p.Header.Get("Bcc") != "" {
				t.Errorf("Bcc header injected")
			}
			if !strings.HasPrefix(p.Text, "Hello,\n\n") || !strings.HasSuffix(p.Text, "replies are not read.\n") {
				t.Errorf("text:\n%s", p.Text)
			}
		})
	}
}

// TestKeyInfoHasNoSecret keeps the key mails unable to carry a secret: the
// one value that must never leave the exchange by email.
func TestKeyInfoHasNoSecret(t *testing.T) {
	typ := reflect.TypeFor[mail.KeyInfo]()
	for i := range typ.NumField() {
		f := typ.Field(i)
		if name := strings.ToLower(f.Name); strings.Contains(name, "secret") || strings.Contains(name, "pass") || strings.Contains(name, "token") {
			t.Errorf("KeyInfo.%s: the key mails must not take a secret", f.Name)
		}
	}
}

// TestLongValues checks that a long or hostile value cannot break a line.
func TestLongValues(t *testing.T) {
	m := mail.NewLogin("alice@example.com", "192.0.2.1", strings.Repeat("agent\n", 200), time.Unix(0, 0))
	line := ""
	for _, l := range strings.Split(m.Text, "\n") {
		if strings.HasPrefix(l, "  Browser:") {
			line = l
		}
	}
	if line == "" || !strings.HasSuffix(line, "...") || len(line) > 350 {
		t.Fatalf("browser line %q", line)
	}
}
