package ratelimit

import (
	"errors"
	"flag"
	"testing"
	"time"
)

func TestParseLimit(t *testing.T) {
	tests := []struct {
		in   string
		want Limit
	}{
		{"600/1m+5", Limit{600, time.Minute, 5}},
		{"600/min+5", Limit{600, time.Minute, 5}},
		{"120/min", Limit{120, time.Minute, 0}},
		{"120/minute+5", Limit{120, time.Minute, 5}},
		{"1/2s", Limit{1, 2 * time.Second, 0}},
		{" 1 / 5 seconds ", Limit{1, 5 * time.Second, 0}},
		{"1/5 sec + 0", Limit{1, 5 * time.Second, 0}},
		{"10/1m30s", Limit{10, 90 * time.Second, 0}},
		{"10/1.5s+2", Limit{10, 1500 * time.Millisecond, 2}},
		{"5/s", Limit{5, time.Second, 0}},
		{"5/100ms", Limit{5, 100 * time.Millisecond, 0}},
		{"1000/h+50", Limit{1000, time.Hour, 50}},
		{"1000/2hours", Limit{1000, 2 * time.Hour, 0}},
		{"1/day", Limit{1, 24 * time.Hour, 0}},
		{"600/1M+5", Limit{600, time.Minute, 5}},
		{"off", Limit{}},
		{"OFF", Limit{}},
		{"unlimited", Limit{}},
		{"0", Limit{}},
		{" 0 ", Limit{}},
	}
	for _, tt := range tests {
		got, err := ParseLimit(tt.in)
		if err != nil || got != tt.want {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", tt.in, got, err, tt.want)
		}
	}
}

func TestParseLimitErrors(t *testing.T) {
	for _, in := range []string{
		"", "600", "600/", "/1m", "0/1m", "-1/1m", "+1/1m", "x/1m", "1.5/1m",
		"600/0s", "600/-1m", "600/0m", "600/parsec", "600/1m+", "600/1m+-1", "600/1m+x",
		"600/1m+5+5", "1/9999999999999h", "99999999999999999999/1m", "on",
	} {
		got, err := ParseLimit(in)
		if !errors.Is(err, ErrInvalidLimit) {
			t.Errorf("ParseLimit(%q) = %+v, %v; want ErrInvalidLimit", in, got, err)
		}
	}
}

func TestLimitStringRoundTrip(t *testing.T) {
	for _, l := range []Limit{
		{}, GeminiPublic(), GeminiPrivate(), GeminiAddresses(), GeminiTransfers(),
		{7, 1500 * time.Millisecond, 3}, {1, 3 * time.Hour, 0}, {3, 90 * time.Second, 1}, {9, 7, 2},
	} {
		s := l.String()
		got, err := ParseLimit(s)
		if err != nil || got != l {
			t.Errorf("ParseLimit(%q) = %+v, %v; want %+v", s, got, err, l)
		}
	}
	if s := GeminiPrivate().String(); s != "600/1m+5" {
		t.Errorf("GeminiPrivate().String() = %q", s)
	}
	if s := GeminiAddresses().String(); s != "1/2s" {
		t.Errorf("GeminiAddresses().String() = %q", s)
	}
}

func TestLimitFlagAndText(t *testing.T) {
	fs := flag.NewFlagSet("x", flag.ContinueOnError)
	l := GeminiPublic()
	fs.Var(&l, "limit", "rate limit")
	if err := fs.Parse([]string{"-limit", "300/1m+10"}); err != nil {
		t.Fatal(err)
	}
	if want := (Limit{300, time.Minute, 10}); l != want {
		t.Errorf("flag: got %+v want %+v", l, want)
	}
	if err := l.UnmarshalText([]byte("bogus")); !errors.Is(err, ErrInvalidLimit) {
		t.Errorf("UnmarshalText(bogus) = %v", err)
	}
	if want := (Limit{300, time.Minute, 10}); l != want {
		t.Errorf("failed UnmarshalText changed the limit to %+v", l)
	}
	b, _ := l.MarshalText()
	if string(b) != "300/1m+10" {
		t.Errorf("MarshalText = %q", b)
	}
}

func TestValidate(t *testing.T) {
	for _, l := range []Limit{{-1, time.Second, 0}, {1, 0, 0}, {1, -time.Second, 0}, {1, time.Second, -1}} {
		if err := l.Validate(); !errors.Is(err, ErrInvalidLimit) {
			t.Errorf("%+v.Validate() = %v", l, err)
		}
	}
	for _, l := range []Limit{{}, {0, -1, -1}, {1, 1, 0}, GeminiPrivate()} {
		if err := l.Validate(); err != nil {
			t.Errorf("%+v.Validate() = %v", l, err)
		}
	}
}

func TestInterval(t *testing.T) {
	tests := []struct {
		l    Limit
		want time.Duration
	}{
		{GeminiPrivate(), 100 * time.Millisecond},
		{GeminiPublic(), 500 * time.Millisecond},
		{GeminiTransfers(), 5 * time.Second},
		{Limit{3, time.Second, 0}, 333333333}, // rounded down: a client within the allowance is never delayed
		{Limit{10, 1, 0}, 1},                  // at least 1ns
		{Limit{}, 0},
	}
	for _, tt := range tests {
		if got := tt.l.Interval(); got != tt.want {
			t.Errorf("%v.Interval() = %v want %v", tt.l, got, tt.want)
		}
	}
}
