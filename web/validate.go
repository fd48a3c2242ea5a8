package web

import (
	"regexp"
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

// thousands is a decimal written with thousands separators: "1,000",
// "12,345.5".
var thousands = regexp.MustCompile(`^[0-9]{1,3}(,[0-9]{3})+(\.[0-9]+)?$`)

// formAmount is an amount as typed into a form: trimmed, and with its
// thousands separators dropped when they are well formed ("10,000.5"). Any
// other comma stays, so that "1,5" (a decimal comma) is refused by the
// amount rule rather than read as 15.
func formAmount(raw string) string {
	s := strings.TrimSpace(raw)
	if thousands.MatchString(s) {
		return strings.ReplaceAll(s, ",", "")
	}
	return s
}
