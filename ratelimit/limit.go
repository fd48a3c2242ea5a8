package ratelimit

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrInvalidLimit is returned (wrapped) by ParseLimit, Limit.Validate,
// Limiter.SetLimit and Limiter.Override for a limit that makes no sense:
// a negative rate or burst, or a positive rate with a non-positive period.
var ErrInvalidLimit = errors.New("invalid rate limit")

// Limit is Gemini's kind of rate limit: an allowance of Rate requests per
// Per, then Burst more queued (delayed until the allowance refills), then
// refusal. Rate == 0 means unlimited (Per and Burst are then ignored).
// The zero Limit is unlimited.
//
// The allowance refills continuously: a key that has been idle for Per
// may send Rate requests at the same instant, and gets one more every
// Per/Rate after that. A key that never sends more than Rate requests in
// any window of length Per is never delayed nor refused. In any window of
// length d a key is admitted (at once or queued) at most
// Rate + Burst + floor(d*Rate/Per) requests.
type Limit struct {
	Rate  int           // requests allowed per Per; 0 = unlimited
	Per   time.Duration // the period of Rate; must be > 0 when Rate > 0
	Burst int           // requests queued past the allowance before refusing
}

// Gemini's documented limits (reference §4). They are functions, not
// variables, so no caller can change them for everyone.

// GeminiPublic is Gemini's public REST limit: 120 requests per minute per
// IP, then 5 queued.
func GeminiPublic() Limit { return Limit{Rate: 120, Per: time.Minute, Burst: 5} }

// GeminiPrivate is Gemini's private REST limit: 600 requests per minute per
// API key, then 5 queued.
func GeminiPrivate() Limit { return Limit{Rate: 600, Per: time.Minute, Burst: 5} }

// GeminiAddresses is the limit of /v1/addresses/:network and
// /v1/deposit/:network/newAddress: 1 request per 2 seconds per subaccount.
func GeminiAddresses() Limit { return Limit{Rate: 1, Per: 2 * time.Second} }

// GeminiTransfers is the limit of /v1/transfers, /v2/transfers and
// /v1/custodyaccountfees: 1 request per 5 seconds, shared by those
// endpoints (use one Limiter for all of them).
func GeminiTransfers() Limit { return Limit{Rate: 1, Per: 5 * time.Second} }

// Unlimited reports whether l admits everything.
func (l Limit) Unlimited() bool { return l.Rate == 0 }

// Validate returns an error wrapping ErrInvalidLimit if l is not a usable
// limit.
func (l Limit) Validate() error {
	switch {
	case l.Rate < 0:
		return fmt.Errorf("%w: negative rate %d", ErrInvalidLimit, l.Rate)
	case l.Rate == 0:
		return nil
	case l.Per <= 0:
		return fmt.Errorf("%w: period %v must be positive", ErrInvalidLimit, l.Per)
	case l.Burst < 0:
		return fmt.Errorf("%w: negative burst %d", ErrInvalidLimit, l.Burst)
	}
	return nil
}

// Interval is the time the allowance takes to refill by one request,
// Per/Rate, rounded down to a whole nanosecond (at least 1ns) so that a
// client keeping within Rate requests per Per is never delayed by the
// rounding (the limiter is more permissive by at most 1ns per request when
// Per is not a multiple of Rate). It is 0 for an unlimited Limit.
func (l Limit) Interval() time.Duration {
	if l.Rate <= 0 || l.Per <= 0 {
		return 0
	}
	return max(l.Per/time.Duration(l.Rate), 1)
}

// String formats l in the grammar ParseLimit reads: "off", or
// "RATE/PERIOD" with "+BURST" when Burst > 0, e.g. "600/1m+5".
func (l Limit) String() string {
	if l.Rate == 0 {
		return "off"
	}
	s := strconv.Itoa(l.Rate) + "/" + formatPeriod(l.Per)
	if l.Burst != 0 {
		s += "+" + strconv.Itoa(l.Burst)
	}
	return s
}

// MarshalText implements encoding.TextMarshaler with String's format.
func (l Limit) MarshalText() ([]byte, error) { return []byte(l.String()), nil }

// UnmarshalText implements encoding.TextUnmarshaler with ParseLimit.
func (l *Limit) UnmarshalText(b []byte) error {
	v, err := ParseLimit(string(b))
	if err != nil {
		return err
	}
	*l = v
	return nil
}

// Set implements flag.Value with ParseLimit, so a *Limit can be a flag.
func (l *Limit) Set(s string) error { return l.UnmarshalText([]byte(s)) }

func formatPeriod(d time.Duration) string {
	switch {
	case d > 0 && d%time.Hour == 0:
		return strconv.FormatInt(int64(d/time.Hour), 10) + "h"
	case d > 0 && d%time.Minute == 0:
		return strconv.FormatInt(int64(d/time.Minute), 10) + "m"
	case d > 0 && d%time.Second == 0:
		return strconv.FormatInt(int64(d/time.Second), 10) + "s"
	}
	return d.String()
}

// unit returns the length of a period unit ParseLimit knows besides Go
// durations. A switch rather than a map: no package-level mutable state.
func unit(s string) (time.Duration, bool) {
	switch s {
	case "ms", "msec", "millisecond", "milliseconds":
		return time.Millisecond, true
	case "s", "sec", "secs", "second", "seconds":
		return time.Second, true
	case "m", "min", "mins", "minute", "minutes":
		return time.Minute, true
	case "h", "hr", "hrs", "hour", "hours":
		return time.Hour, true
	case "d", "day", "days":
		return 24 * time.Hour, true
	}
	return 0, false
}

// ParseLimit parses a limit from a configuration string. The grammar,
// case-insensitive, with spaces allowed around each part:
//
//	limit  = "off" | "unlimited" | "0" | rate "/" period [ "+" burst ]
//	rate   = positive decimal integer
//	period = [ count ] unit | Go duration (time.ParseDuration)
//	count  = positive decimal integer (default 1)
//	unit   = "ms" | "s" | "sec" | "second" | "m" | "min" | "minute"
//	       | "h" | "hr" | "hour" | "d" | "day"   (and plurals)
//	burst  = non-negative decimal integer (default 0): requests queued
//	         past the allowance
//
// Examples: "600/1m+5" and "600/min+5" (Gemini's private limit),
// "120/minute+5", "1/2s", "1 / 5 seconds", "10/1m30s", "off".
// "0/1m" is rejected: write "off" or "0" for unlimited.
// Errors wrap ErrInvalidLimit.
func ParseLimit(s string) (Limit, error) {
	in := strings.ToLower(strings.TrimSpace(s))
	switch in {
	case "off", "unlimited", "0":
		return Limit{}, nil
	}
	bad := func(format string, a ...any) (Limit, error) {
		return Limit{}, fmt.Errorf("parse limit %q: %w: %s", s, ErrInvalidLimit, fmt.Sprintf(format, a...))
	}
	rateStr, rest, ok := strings.Cut(in, "/")
	if !ok {
		return bad(`want "RATE/PERIOD[+BURST]" or "off"`)
	}
	perStr, burstStr, hasBurst := strings.Cut(rest, "+")
	rate, ok := parseUint(strings.TrimSpace(rateStr))
	if !ok || rate == 0 {
		return bad("rate %q is not a positive integer", strings.TrimSpace(rateStr))
	}
	per, ok := parsePeriod(strings.TrimSpace(perStr))
	if !ok {
		return bad("period %q is not a positive duration like 1m, min, 2s or 1m30s", strings.TrimSpace(perStr))
	}
	burst := 0
	if hasBurst {
		if burst, ok = parseUint(strings.TrimSpace(burstStr)); !ok {
			return bad("burst %q is not a non-negative integer", strings.TrimSpace(burstStr))
		}
	}
	return Limit{Rate: rate, Per: per, Burst: burst}, nil
}

// parseUint parses plain decimal digits (no sign) into an int.
func parseUint(s string) (int, bool) {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return 0, false
	}
	n, err := strconv.Atoi(s)
	return n, err == nil
}

func parsePeriod(s string) (time.Duration, bool) {
	// "2s", "2 sec", "min": a leading count, then a unit from the table.
	// Anything else ("1m30s", "1.5s") goes to time.ParseDuration.
	i := len(s) - len(strings.TrimLeft(s, "0123456789"))
	count, unitStr := 1, strings.TrimSpace(s[i:])
	if u, ok := unit(unitStr); ok {
		if i > 0 {
			n, ok := parseUint(s[:i])
			if !ok || n == 0 {
				return 0, false
			}
			count = n
		}
		if int64(count) > math.MaxInt64/int64(u) {
			return 0, false
		}
		return time.Duration(count) * u, true
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		return 0, false
	}
	return d, true
}
