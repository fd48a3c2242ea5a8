package mail

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"
)

// The texts of Twinex's account mails. Each function returns a plain-text
// Message; values are printed on lines of their own, so a link stays
// clickable in any mail client. The texts say what happened and what to do
// if it was not the reader, and nothing more.

// signature ends every mail.
const signature = "\n-- \nTwinex\nThis is an automatic message; replies are not read.\n"

// KeyInfo describes an API key in the key mails. It holds the key's public
// id and never its secret: no field here may ever carry one.
type KeyInfo struct {
	ID        string   // the public key id, e.g. "account-a1b2c3"
	Label     string   // optional
	Roles     []string // role names, e.g. twinex.Role.Names()
	Allowlist []string // IP addresses or CIDR ranges; empty means any address
	IP        string   // the IP address of whoever created, rotated or revoked it
}

// VerifyEmail is the mail that confirms a new account's address: link is
// the confirmation URL.
func VerifyEmail(to, link string) Message {
	return Message{
		To:      to,
		Subject: "Confirm your email address",
		Text: "Hello,\n\n" +
			"Please confirm that this is your email address by opening the link below:\n\n" +
			oneLine(link) + "\n\n" +
			"If you did not sign up for Twinex, you can ignore this email: " +
			"the address will not be used without confirmation.\n" + signature,
	}
}

// PasswordReset is the mail that lets a user choose a new password: link
// is the reset URL.
func PasswordReset(to, link string) Message {
	return Message{
		To:      to,
		Subject: "Reset your password",
		Text: "Hello,\n\n" +
			"Someone asked to reset the password of the Twinex account with this email address. " +
			"To choose a new password, open the link below:\n\n" +
			oneLine(link) + "\n\n" +
			"If you did not ask for this, you can ignore this email: your password has not been changed.\n" +
			signature,
	}
}

// KeyCreated tells a user that an API key was created on their account.
func KeyCreated(to string, k KeyInfo) Message {
	return Message{
		To:      to,
		Subject: "New API key created",
		Text: "Hello,\n\n" +
			"A new API key was created for your Twinex account.\n\n" +
			keyFields(k, "Created from IP") + "\n" +
			"The key's secret was shown once, when the key was created, and is never sent by email.\n\n" +
			"If you did not create this key, revoke it now from the dashboard and change your password.\n" +
			signature,
	}
}

// KeyRotated tells a user that an API key's secret was replaced. oldUntil
// is when the previous secret stops working; zero if it stopped at once.
func KeyRotated(to string, k KeyInfo, oldUntil time.Time) Message {
	old := "The previous secret no longer works."
	if !oldUntil.IsZero() {
		old = "The previous secret keeps working until " + utc(oldUntil) + ", so that your programs can switch over."
	}
	return Message{
		To:      to,
		Subject: "API key secret rotated",
		Text: "Hello,\n\n" +
			"The secret of an API key of your Twinex account was replaced with a new one.\n\n" +
			keyFields(k, "Rotated from IP") + "\n" +
			old + " The new secret was shown once and is never sent by email.\n\n" +
			"If you did not do this, revoke the key now from the dashboard and change your password.\n" +
			signature,
	}
}

// KeyRevoked tells a user that an API key was revoked.
func KeyRevoked(to string, k KeyInfo) Message {
	return Message{
		To:      to,
		Subject: "API key revoked",
		Text: "Hello,\n\n" +
			"An API key of your Twinex account was revoked. It no longer works.\n\n" +
			keyFields(k, "Revoked from IP") + "\n" +
			"If you did not do this, change your password and review your other API keys from the dashboard.\n" +
			signature,
	}
}

// NewLogin tells a user that their account was signed in to from an IP
// address it had not used before. userAgent is optional.
func NewLogin(to, ip, userAgent string, at time.Time) Message {
	rows := [][2]string{{"IP address", ip}, {"Time", utc(at)}}
	if userAgent != "" {
		rows = append(rows, [2]string{"Browser", userAgent})
	}
	return Message{
		To:      to,
		Subject: "New sign-in to your Twinex account",
		Text: "Hello,\n\n" +
			"Your Twinex account was signed in to from an IP address it has not used before.\n\n" +
			fields(rows) + "\n" +
			"If this was you, there is nothing to do.\n\n" +
			"If it was not, change your password now and review your API keys from the dashboard.\n" +
			signature,
	}
}

func keyFields(k KeyInfo, ipLabel string) string {
	rows := [][2]string{{"Key", k.ID}}
	if k.Label != "" {
		rows = append(rows, [2]string{"Label", k.Label})
	}
	roles := strings.Join(k.Roles, ", ")
	if roles == "" {
		roles = "none"
	}
	allow := strings.Join(k.Allowlist, ", ")
	if allow == "" {
		allow = "any IP address (no allowlist)"
	}
	rows = append(rows, [2]string{"Roles", roles}, [2]string{"Allowlist", allow}, [2]string{ipLabel, k.IP})
	return fields(rows)
}

// fields renders label/value rows as an indented, aligned block.
func fields(rows [][2]string) string {
	width := 0
	for _, r := range rows {
		width = max(width, len(r[0]))
	}
	var b strings.Builder
	for _, r := range rows {
		fmt.Fprintf(&b, "  %-*s  %s\n", width+1, r[0]+":", oneLine(r[1]))
	}
	return b.String()
}

// maxValue caps a value printed in a mail, in runes; a user agent can be
// long, and a label is the user's own text.
const maxValue = 300

// oneLine makes s safe to print on one line: control characters become
// spaces and the result is trimmed and capped.
func oneLine(s string) string {
	s = strings.TrimSpace(strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029' || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s))
	if utf8.RuneCountInString(s) > maxValue {
		s = string([]rune(s)[:maxValue]) + "..."
	}
	return s
}

func utc(t time.Time) string { return t.UTC().Format("2006-01-02 15:04:05 UTC") }
