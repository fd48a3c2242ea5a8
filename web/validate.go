package web

import (
	"net/mail"
	"strings"

	"github.com/twinex/twinex/password"
)

// checkEmail normalises an email address (trimmed, lower case) and checks
// its form; it returns a message for the visitor when it is not one.
func checkEmail(raw string) (string, string) {
	e := strings.ToLower(strings.TrimSpace(raw))
	if e == "" {
		return "", "Enter your email address."
	}
	const invalid = "Enter a valid email address, like name@example.com."
	a, err := mail.ParseAddress(e)
	if err != nil || a.Address != e || len(e) > 254 {
		return "", invalid // also refuses "Name <addr>" and comments
	}
	local, domain, _ := strings.Cut(e, "@")
	if local == "" || strings.HasPrefix(domain, ".") || strings.HasSuffix(domain, ".") ||
		!strings.Contains(domain, ".") && domain != "localhost" {
		return "", invalid
	}
	return e, ""
}

// checkNewPassword reports, for the visitor, why pw is unacceptable as the
// password of email (password.CheckFor: length, common passwords, the
// email in the password), or "".
func checkNewPassword(pw, email string) string {
	if err := password.CheckFor(pw, email); err != nil {
		msg := err.Error()
		return strings.ToUpper(msg[:1]) + msg[1:] + "."
	}
	return ""
}
