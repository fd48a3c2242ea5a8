package web

import (
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/password"
)

// checkEmail normalises an email address (trimmed, lower case) and checks
// its form; it returns a message for the visitor when it is not one.
func checkEmail(raw string) (string, string) {
	if strings.TrimSpace(raw) == "" {
		return "", "Enter your email address."
	}
	e, err := twinex.ParseEmail(raw)
	if err != nil {
		return "", "Enter a valid email address, like name@example.com."
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
