package password

import (
	_ "embed"
	"strings"
	"sync"
)

// commonText is the list of common passwords; see its header.
//
//go:embed common.txt
var commonText string

// commonSet is the set of common passwords, parsed on first use. It is
// never modified after, so it is not mutable state (STYLE habit 5).
var commonSet = sync.OnceValue(func() map[string]struct{} {
	set := make(map[string]struct{}, 2048)
	for _, line := range strings.Split(commonText, "\n") {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		set[strings.ToLower(line)] = struct{}{}
	}
	return set
})

// isCommon reports whether pw, ignoring case, is on the common list, or is
// a listed password followed by digits and punctuation ("qwertyuiop2024!"):
// appending those to a known password is the first variation guessers try.
func isCommon(pw string) bool {
	set := commonSet()
	pw = strings.ToLower(pw)
	if _, ok := set[pw]; ok {
		return true
	}
	stem := strings.TrimRightFunc(pw, func(r rune) bool {
		return r < 0x80 && !('a' <= r && r <= 'z') && r != ' '
	})
	_, ok := set[stem]
	return ok && stem != pw
}

// containsEmail reports whether pw, ignoring case, contains the local part
// of email (before the last @), that part without a "+tag", or without its
// dots, dashes and underscores ("john.smith" in "johnsmith2024"). Parts
// shorter than 4 characters are ignored: refusing every password that
// contains "al" or "bob" would refuse good passwords and protect little.
func containsEmail(pw, email string) bool {
	at := strings.LastIndexByte(email, '@')
	if at < 0 {
		at = len(email)
	}
	local := strings.ToLower(email[:at])
	pw = strings.ToLower(pw)
	base := strings.SplitN(local, "+", 2)[0]
	bare := strings.NewReplacer(".", "", "-", "", "_", "").Replace(base)
	for _, part := range []string{local, base, bare} {
		if len([]rune(part)) >= 4 && strings.Contains(pw, part) {
			return true
		}
	}
	return false
}
