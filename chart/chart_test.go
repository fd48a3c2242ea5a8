package chart

import (
	"encoding/xml"
	"io"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 26, 0, 0, 0, 0, time.UTC)

// series returns n buckets one step apart from start, with requests and
// errors given by f.
func series(start time.Time, n int, step time.Duration, f func(i int) (req, errs int64)) []Bucket {
	bs := make([]Bucket, n)
	for i := range bs {
		r, e := f(i)
		bs[i] = Bucket{Start: start.Add(time.Duration(i) * step), Requests: r, Errors: e}
	}
	return bs
}

// svgDoc is what parse found in a chart.
type svgDoc struct {
	summary  string         // root <title>
	label    string         // root aria-label
	tooltips []string       // <title> of bar groups
	classes  map[string]int // elements per class attribute
	xLabels  []string       // text of x axis labels (below the plot)
	texts    []string       // all <text> contents
}

// parse decodes the whole chart as XML, failing the test on any error, and
// checks that no length is negative and no number uses an exponent.
func parse(t *testing.T, svg string) svgDoc {
	t.Helper()
	doc := svgDoc{classes: map[string]int{}}
	dec := xml.NewDecoder(strings.NewReader(svg))
	var stack []string
	var text strings.Builder
	var textY string
	for {
		tok, err := dec.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatalf("invalid XML: %v\n%s", err, svg)
		}
		switch tok := tok.(type) {
		case xml.StartElement:
			if len(stack) == 0 {
				if tok.Name.Local != "svg" {
					t.Fatalf("root element %q", tok.Name.Local)
				}
			}
			for _, a := range tok.Attr {
				switch a.Name.Local {
				case "class":
					doc.classes[a.Value]++
				case "aria-label":
					if len(stack) == 0 {
						doc.label = a.Value
					}
				case "x", "y", "x1", "x2", "y1", "y2", "width", "height", "font-size":
					if len(stack) == 0 && a.Name.Local == "width" {
						if a.Value != "100%" {
							t.Errorf("root width=%q, want 100%%", a.Value)
						}
						continue
					}
					v, err := strconv.ParseFloat(a.Value, 64)
					if err != nil || strings.ContainsAny(a.Value, "eE") {
						t.Errorf("attribute %s=%q is not a plain number", a.Name.Local, a.Value)
					}
					if (a.Name.Local == "width" || a.Name.Local == "height") && v < 0 {
						t.Errorf("negative %s=%q", a.Name.Local, a.Value)
					}
					if a.Name.Local == "y" {
						textY = a.Value
					}
				}
			}
			stack = append(stack, tok.Name.Local)
			text.Reset()
		case xml.CharData:
			text.Write(tok)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
			switch {
			case tok.Name.Local == "title" && len(stack) == 1:
				doc.summary = text.String()
			case tok.Name.Local == "title" && stack[len(stack)-1] == "g":
				doc.tooltips = append(doc.tooltips, text.String())
			case tok.Name.Local == "text":
				doc.texts = append(doc.texts, text.String())
				if textY == strconv.Itoa(height-6) {
					doc.xLabels = append(doc.xLabels, text.String())
				}
			}
		}
	}
	if len(stack) != 0 {
		t.Fatalf("unclosed elements %v", stack)
	}
	if regexp.MustCompile(`[0-9.]e[+-]?[0-9]`).MatchString(svg) {
		t.Errorf("output contains a number with an exponent")
	}
	return doc
}

func TestBarsEscapesTitle(t *testing.T) {
	bs := series(t0, 3, time.Minute, func(int) (int64, int64) { return 2, 1 })
	tests := []struct{ title, want string }{
		{`</title></svg><script>alert(1)</script>`, `</title></svg><script>alert(1)</script>`},
		{`" onload="alert(1)`, `" onload="alert(1)`},
		{`' onmouseover='alert(1)`, `' onmouseover='alert(1)`},
		{`Tom & Jerry's <b>key</b>`, `Tom & Jerry's <b>key</b>`},
		{`&amp; &#60; ]]> <!-- -->`, `&amp; &#60; ]]> <!-- -->`},
		{"ctrl\x00\x01\x1b, bad utf8 \xff\xfe", "ctrl\uFFFD\uFFFD\uFFFD, bad utf8 \uFFFD\uFFFD"},
		{"line\nbreak\ttab\r", "line\nbreak\ttab\r"},
	}
	for _, tt := range tests {
		t.Run(tt.title, func(t *testing.T) {
			out := string(Bars(tt.title, bs, time.Minute, nil))
			for _, bad := range []string{"<script", "<b>", `" onload`, `' onmouseover`, "<!--", "\x00", "\xff"} {
				if strings.Contains(out, bad) {
					t.Errorf("output contains %q", bad)
				}
			}
			doc := parse(t, out)
			want := tt.want + ": 6 requests, 3 errors"
			if doc.summary != want {
				t.Errorf("title = %q, want %q", doc.summary, want)
			}
			if doc.label != want {
				t.Errorf("aria-label = %q, want %q", doc.label, want)
			}
		})
	}
}

func TestNiceTicks(t *testing.T) {
	tests := []struct {
		max  int64
		want []int64
	}{
		{-5, []int64{0}},
		{0, []int64{0}},
		{1, []int64{0, 1, 2}},
		{2, []int64{0, 1, 2}},
		{3, []int64{0, 1, 2, 3}},
		{4, []int64{0, 1, 2, 3, 4}},
		{5, []int64{0, 2, 4, 6}},
		{9, []int64{0, 5, 10}},
		{10, []int64{0, 5, 10}},
		{11, []int64{0, 5, 10, 15}},
		{42, []int64{0, 20, 40, 60}},
		{100, []int64{0, 50, 100}},
		{101, []int64{0, 50, 100, 150}},
		{999, []int64{0, 500, 1000}},
		{1234567, []int64{0, 500000, 1000000, 1500000}},
		{math.MaxInt64, []int64{0, math.MaxInt64}},
	}
	for _, tt := range tests {
		got := niceTicks(tt.max)
		if !slices.Equal(got, tt.want) {
			t.Errorf("niceTicks(%d) = %v, want %v", tt.max, got, tt.want)
		}
	}
	// Properties over a range: 3-5 values, from 0, even 1/2/5×10^n steps,
	// covering max.
	for m := int64(1); m < 200000; m = m*3/2 + 1 {
		got := niceTicks(m)
		if len(got) < 3 || len(got) > 5 || got[0] != 0 || got[len(got)-1] < m {
			t.Fatalf("niceTicks(%d) = %v", m, got)
		}
		s := got[1]
		for s%10 == 0 {
			s /= 10
		}
		if s != 1 && s != 2 && s != 5 {
			t.Fatalf("niceTicks(%d) = %v: step not 1, 2 or 5 × 10^n", m, got)
		}
		for i := range got {
			if got[i] != int64(i)*got[1] {
				t.Fatalf("niceTicks(%d) = %v: uneven", m, got)
			}
		}
	}
}

func TestBarsEmpty(t *testing.T) {
	tests := []struct {
		name    string
		buckets []Bucket
	}{
		{"nil", nil},
		{"zeros", series(t0, 60, time.Minute, func(int) (int64, int64) { return 0, 0 })},
		{"negative", series(t0, 60, time.Minute, func(int) (int64, int64) { return -4, 7 })},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, string(Bars("Key A", tt.buckets, time.Minute, nil)))
			if !slices.Contains(doc.texts, "No requests") {
				t.Errorf("no %q label; texts %q", "No requests", doc.texts)
			}
			if doc.classes["axis"] < 2 {
				t.Errorf("%d axis lines, want at least 2", doc.classes["axis"])
			}
			if n := doc.classes["bar-ok"] + doc.classes["bar-err"] + len(doc.tooltips); n != 0 {
				t.Errorf("empty chart has %d bar elements", n)
			}
			if doc.summary != "Key A: 0 requests, 0 errors" {
				t.Errorf("summary %q", doc.summary)
			}
			if len(tt.buckets) > 0 && len(doc.xLabels) == 0 {
				t.Errorf("no x labels")
			}
		})
	}
}

func TestBarsCounts(t *testing.T) {
	tests := []struct {
		name     string
		buckets  []Bucket
		step     time.Duration
		bars     int // non-empty bars, each with one tooltip
		errBars  int
		summary  string
		tooltip0 string
	}{
		{
			name:     "single",
			buckets:  []Bucket{{Start: t0.Add(14*time.Hour + 5*time.Minute), Requests: 42, Errors: 3}},
			step:     time.Minute,
			bars:     1,
			errBars:  1,
			summary:  "t: 42 requests, 3 errors",
			tooltip0: "2026-11-26 14:05 UTC: 42 requests, 3 errors",
		},
		{
			name:     "sparse minutes",
			buckets:  series(t0, 60, time.Minute, func(i int) (int64, int64) { return int64(i % 3), int64(i % 2) }),
			step:     time.Minute,
			bars:     40,
			errBars:  20,
			summary:  "t: 60 requests, 20 errors",
			tooltip0: "2026-11-26 00:01 UTC: 1 request, 1 error",
		},
		{
			name:    "1440 minutes merged by 3",
			buckets: series(t0, 1440, time.Minute, func(i int) (int64, int64) { return 1, 0 }),
			step:    time.Minute,
			bars:    480, errBars: 0,
			summary:  "t: 1440 requests, 0 errors",
			tooltip0: "2026-11-26 00:00–00:03 UTC: 3 requests, 0 errors",
		},
		{
			name:    "720 hours merged by 2",
			buckets: series(t0, 720, time.Hour, func(i int) (int64, int64) { return 10, 1 }),
			step:    time.Hour,
			bars:    360, errBars: 360,
			summary:  "t: 7200 requests, 720 errors",
			tooltip0: "2026-11-26 00:00–02:00 UTC: 20 requests, 2 errors",
		},
		{
			name:    "merge crossing midnight",
			buckets: series(t0.Add(-time.Hour), 700, 2*time.Hour, func(i int) (int64, int64) { return 1, 0 }),
			step:    2 * time.Hour,
			bars:    350, errBars: 0,
			summary:  "t: 700 requests, 0 errors",
			tooltip0: "2026-11-25 23:00 – 2026-11-26 03:00 UTC: 2 requests, 0 errors",
		},
		{
			name:     "step inferred",
			buckets:  series(t0, 4, 15*time.Minute, func(i int) (int64, int64) { return 5, 0 }),
			step:     0,
			bars:     4,
			summary:  "t: 20 requests, 0 errors",
			tooltip0: "2026-11-26 00:00 UTC: 5 requests, 0 errors",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, string(Bars("t", tt.buckets, tt.step, nil)))
			if got := len(doc.tooltips); got != tt.bars {
				t.Errorf("%d tooltips, want %d", got, tt.bars)
			}
			if got := doc.classes["hit"]; got != tt.bars {
				t.Errorf("%d bars, want %d", got, tt.bars)
			}
			legend := 1 // the legend has one swatch of each class
			if got := doc.classes["bar-err"] - legend; got != tt.errBars {
				t.Errorf("%d error bars, want %d", got, tt.errBars)
			}
			if doc.summary != tt.summary || doc.label != tt.summary {
				t.Errorf("summary %q, aria-label %q, want %q", doc.summary, doc.label, tt.summary)
			}
			if len(doc.tooltips) > 0 && doc.tooltips[0] != tt.tooltip0 {
				t.Errorf("first tooltip %q, want %q", doc.tooltips[0], tt.tooltip0)
			}
			if slices.Contains(doc.texts, "No requests") {
				t.Errorf("non-empty chart says No requests")
			}
		})
	}
}

func TestBarsTimeZone(t *testing.T) {
	loc := time.FixedZone("CET", 3600)
	bs := []Bucket{{Start: t0.Add(14*time.Hour + 5*time.Minute), Requests: 1}}
	doc := parse(t, string(Bars("t", bs, time.Minute, loc)))
	if want := "2026-11-26 15:05 CET: 1 request, 0 errors"; len(doc.tooltips) != 1 || doc.tooltips[0] != want {
		t.Errorf("tooltips %q, want [%q]", doc.tooltips, want)
	}
}

func TestBarsClampsErrors(t *testing.T) {
	tests := []struct {
		name     string
		b        Bucket
		want     string // tooltip after the time; "" for no bar
		errRects int
	}{
		{"errors exceed requests", Bucket{Requests: 5, Errors: 9}, ": 5 requests, 5 errors", 1},
		{"errors without requests", Bucket{Requests: 0, Errors: 9}, "", 0},
		{"negative errors", Bucket{Requests: 5, Errors: -2}, ": 5 requests, 0 errors", 0},
		{"huge", Bucket{Requests: math.MaxInt64, Errors: math.MaxInt64}, ": 9223372036854775807 requests, 9223372036854775807 errors", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			bs := []Bucket{{Start: t0, Requests: 100}, tt.b, {Start: t0.Add(2 * time.Minute), Requests: 1}}
			bs[1].Start = t0.Add(time.Minute)
			if tt.b.Requests == math.MaxInt64 {
				bs[0].Requests, bs[2].Requests = math.MaxInt64, math.MaxInt64 // totals saturate
			}
			out := string(Bars("t", bs, time.Minute, nil))
			doc := parse(t, out)
			var tip string
			for _, s := range doc.tooltips {
				if strings.HasPrefix(s, "2026-11-26 00:01 UTC") {
					tip = strings.TrimPrefix(s, "2026-11-26 00:01 UTC")
				}
			}
			if tip != tt.want {
				t.Errorf("tooltip %q, want %q", tip, tt.want)
			}
			legend := 1 // the other buckets keep the chart non-empty
			if got := doc.classes["bar-err"] - legend; got != tt.errRects {
				t.Errorf("%d error rects, want %d", got, tt.errRects)
			}
			// Every bar stays inside the plot area.
			for _, m := range regexp.MustCompile(`class="bar-(?:ok|err)" x="[^"]*" y="([^"]*)" width="[^"]*" height="([^"]*)"`).FindAllStringSubmatch(out, -1) {
				y, _ := strconv.ParseFloat(m[1], 64)
				h, _ := strconv.ParseFloat(m[2], 64)
				if y < 0 || y+h > padT+plotH+0.05 {
					t.Errorf("bar y=%v height=%v outside plot", y, h)
				}
			}
		})
	}
}

func TestBarsXLabels(t *testing.T) {
	ones := func(int) (int64, int64) { return 1, 0 }
	tests := []struct {
		name    string
		buckets []Bucket
		step    time.Duration
		want    []string
	}{
		{"hour of minutes", series(t0.Add(14*time.Hour), 60, time.Minute, ones), time.Minute,
			[]string{"14:00", "14:10", "14:20", "14:30", "14:40", "14:50"}},
		{"day of 15 minutes", series(t0, 96, 15*time.Minute, ones), 15 * time.Minute,
			[]string{"00:00", "06:00", "12:00", "18:00"}},
		{"day of minutes", series(t0, 1440, time.Minute, ones), time.Minute,
			[]string{"00:00", "06:00", "12:00", "18:00"}},
		{"day of hours", series(t0, 24, time.Hour, ones), time.Hour,
			[]string{"00:00", "06:00", "12:00", "18:00"}},
		{"30 days of hours", series(t0, 720, time.Hour, ones), time.Hour,
			[]string{"Nov 30", "Dec 7", "Dec 14", "Dec 21"}},
		{"30 days", series(t0, 30, 24*time.Hour, ones), 24 * time.Hour,
			[]string{"Nov 30", "Dec 7", "Dec 14", "Dec 21"}},
		{"odd step falls back", series(t0.Add(7*time.Second), 10, 7*time.Minute, ones), 7 * time.Minute,
			[]string{"00:00", "00:14", "00:28", "00:42", "00:56"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			doc := parse(t, string(Bars("t", tt.buckets, tt.step, nil)))
			if !slices.Equal(doc.xLabels, tt.want) {
				t.Errorf("x labels %q, want %q", doc.xLabels, tt.want)
			}
		})
	}
}

func TestBarsSizeAndDeterminism(t *testing.T) {
	// Worst case: every bucket has requests and errors with long numbers.
	bs := series(t0, 1440, time.Minute, func(i int) (int64, int64) {
		return 1_000_000_000 + int64(i*7919%100_000), 10_000_000 + int64(i%997)
	})
	out := Bars(`Key "prod" <main>`, bs, time.Minute, time.FixedZone("America/Somewhere", -5*3600))
	if len(out) > 200_000 {
		t.Errorf("1440 buckets render to %d bytes, want at most 200000", len(out))
	}
	t.Logf("1440 buckets: %d bytes", len(out))
	doc := parse(t, string(out))
	if len(doc.tooltips) != 480 {
		t.Errorf("%d tooltips, want 480", len(doc.tooltips))
	}
	if again := Bars(`Key "prod" <main>`, bs, time.Minute, time.FixedZone("America/Somewhere", -5*3600)); again != out {
		t.Errorf("output not deterministic")
	}
}

func TestCompact(t *testing.T) {
	for v, want := range map[int64]string{0: "0", 5: "5", 1500: "1500", 9999: "9999", 10000: "10k",
		15000: "15k", 150000: "150k", 2500000: "2.5M", 1000000000: "1G", 3000000000000: "3T"} {
		if got := compact(v); got != want {
			t.Errorf("compact(%d) = %q, want %q", v, got, want)
		}
	}
}
