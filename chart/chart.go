// Package chart renders small server-side SVG charts for the dashboard.
//
// The output is plain inline SVG with no scripts, no external resources and
// no element ids, so several charts can share a page. Drawn elements carry a
// CSS class (grid, axis, label, hit, bar-ok, bar-err) and an inline fill or
// stroke that page CSS may override, for example for a dark theme; the root
// has class "chart" and the legend class "legend".
package chart

import (
	"encoding/xml"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Bucket is one bar: requests counted in [Start, Start+step), of which
// Errors failed. Negative counts are treated as zero and Errors is clamped
// to Requests.
type Bucket struct {
	Start    time.Time
	Requests int64
	Errors   int64
}

// Geometry of the fixed viewBox, in user units.
const (
	width  = 720
	height = 180
	padL   = 44 // room for y labels
	padR   = 10
	padT   = 20 // room for the legend
	padB   = 22 // room for x labels
	plotW  = width - padL - padR
	plotH  = height - padT - padB

	// maxBars is the most bars drawn, about one per unit of plot width;
	// longer series are merged so each bar covers several buckets.
	maxBars = plotW
)

// Inline colours, matching the light theme of web/static/style.css.
const (
	colOK    = "#1f5fd1"
	colErr   = "#a11b1b"
	colAxis  = "#4a5361"
	colGrid  = "#d5dae1"
	colLabel = "#4a5361"
)

// Bars renders buckets (oldest first, one every step) as an accessible SVG
// bar chart and returns it ready to embed in an html/template page.
//
// Each bar shows Requests, with Errors drawn as its lower part in a second
// colour. The accessible name is title plus the totals; title is untrusted
// and escaped. Every non-empty bar has a <title> tooltip such as
// "2026-11-26 14:05 UTC: 42 requests, 3 errors", with times shown in loc
// (UTC if nil). Empty buckets draw nothing but keep their place on the time
// axis, so callers should fill gaps with zero buckets. If step is not
// positive it is inferred from the first two buckets (else one hour).
// Series longer than 666 buckets are merged into bars of several buckets
// each (1440 become 480 bars, under 170 KB); their tooltips give a range.
// The SVG has width="100%" and a 720×180 viewBox, so it scales with its
// container; the output is deterministic.
func Bars(title string, buckets []Bucket, step time.Duration, loc *time.Location) template.HTML { // long: draws one SVG top to bottom (grid, bars, axes, labels) on one shared scale
	if loc == nil {
		loc = time.UTC
	}
	if step <= 0 {
		step = time.Hour
		if len(buckets) > 1 {
			if d := buckets[1].Start.Sub(buckets[0].Start); d > 0 {
				step = d
			}
		}
	}
	n := len(buckets)
	groupSize := 1
	if n > maxBars {
		groupSize = (n + maxBars - 1) / maxBars
	}

	type bar struct {
		first, count  int // bucket index and number of buckets merged
		requests, err int64
	}
	bars := make([]bar, 0, (n+groupSize-1)/groupSize)
	var totalReq, totalErr, maxReq int64
	for i := 0; i < n; i += groupSize {
		b := bar{first: i, count: min(groupSize, n-i)}
		for _, k := range buckets[i : i+b.count] {
			r := max(k.Requests, 0)
			e := min(max(k.Errors, 0), r)
			b.requests = satAdd(b.requests, r)
			b.err = satAdd(b.err, e)
		}
		totalReq = satAdd(totalReq, b.requests)
		totalErr = satAdd(totalErr, b.err)
		maxReq = max(maxReq, b.requests)
		bars = append(bars, b)
	}

	var sb strings.Builder
	sb.Grow(4096 + 320*len(bars))
	w := func(parts ...string) {
		for _, p := range parts {
			sb.WriteString(p)
		}
	}
	summary := title + ": " + count(totalReq, "request") + ", " + count(totalErr, "error")
	w(`<svg xmlns="http://www.w3.org/2000/svg" class="chart" viewBox="0 0 `, itoa(width), " ", itoa(height),
		`" width="100%" role="img" font-size="11" aria-label="`, esc(summary), `"><title>`, esc(summary), "</title>\n")

	ticks := niceTicks(maxReq)
	top := float64(ticks[len(ticks)-1])
	yOf := func(v int64) float64 {
		if top <= 0 {
			return padT + plotH
		}
		return padT + plotH - float64(v)/top*plotH
	}

	// Gridlines and y labels.
	for _, t := range ticks {
		y := num(yOf(t))
		if t > 0 {
			w(`<line class="grid" x1="`, itoa(padL), `" y1="`, y, `" x2="`, itoa(width-padR), `" y2="`, y,
				`" stroke="`, colGrid, `"/>`, "\n")
		}
		w(`<text class="label" x="`, itoa(padL-6), `" y="`, num(yOf(t)+4), `" text-anchor="end" fill="`, colLabel, `">`,
			compact(t), "</text>\n")
	}

	// Bars.
	unit := float64(plotW) / float64(max(n, 1))
	for _, b := range bars {
		if b.requests == 0 {
			continue
		}
		x := padL + float64(b.first)*unit
		slot := float64(b.count) * unit
		bw, bx := slot, x
		if slot >= 4 {
			gap := min(slot*0.2, 4)
			bw, bx = slot-gap, x+gap/2
		}
		hTot := max(float64(plotH)-(yOf(b.requests)-padT), 1)
		hErr := 0.0
		if b.err > 0 {
			hErr = min(max(float64(plotH)-(yOf(b.err)-padT), 1), hTot)
		}
		base := float64(padT + plotH)
		first := buckets[b.first].Start
		last := buckets[b.first+b.count-1].Start
		w("<g><title>", esc(tooltip(first, last, step, b.count > 1, loc)), ": ",
			count(b.requests, "request"), ", ", count(b.err, "error"), "</title>")
		w(`<rect class="hit" x="`, num(x), `" y="`, itoa(padT), `" width="`, num(slot), `" height="`, itoa(plotH),
			`" fill="transparent"/>`)
		if hTot > hErr {
			w(`<rect class="bar-ok" x="`, num(bx), `" y="`, num(base-hTot), `" width="`, num(bw), `" height="`,
				num(hTot-hErr), `" fill="`, colOK, `"/>`)
		}
		if hErr > 0 {
			w(`<rect class="bar-err" x="`, num(bx), `" y="`, num(base-hErr), `" width="`, num(bw), `" height="`,
				num(hErr), `" fill="`, colErr, `"/>`)
		}
		w("</g>\n")
	}

	// Axes.
	w(`<line class="axis" x1="`, itoa(padL), `" y1="`, itoa(padT), `" x2="`, itoa(padL), `" y2="`, itoa(padT+plotH),
		`" stroke="`, colAxis, `"/>`, "\n")
	w(`<line class="axis" x1="`, itoa(padL), `" y1="`, itoa(padT+plotH), `" x2="`, itoa(width-padR), `" y2="`,
		itoa(padT+plotH), `" stroke="`, colAxis, `"/>`, "\n")

	// X labels.
	for _, l := range timeLabels(buckets, step, loc) {
		x := padL + float64(l.index)*unit
		anchor := "middle"
		switch {
		case x-l.half < 0:
			anchor = "start"
		case x+l.half > width:
			anchor = "end"
		}
		w(`<line class="axis" x1="`, num(x), `" y1="`, itoa(padT+plotH), `" x2="`, num(x), `" y2="`,
			itoa(padT+plotH+4), `" stroke="`, colAxis, `"/>`)
		w(`<text class="label" x="`, num(x), `" y="`, itoa(height-6), `" text-anchor="`, anchor, `" fill="`, colLabel,
			`">`, esc(l.text), "</text>\n")
	}

	if totalReq == 0 {
		w(`<text class="label" x="`, num(padL+plotW/2.0), `" y="`, num(padT+plotH/2.0+4),
			`" text-anchor="middle" fill="`, colLabel, `">No requests</text>`, "\n")
	} else {
		w(`<g class="legend"><rect class="bar-ok" x="566" y="5" width="9" height="9" fill="`, colOK, `"/>`,
			`<text class="label" x="579" y="13" fill="`, colLabel, `">Requests</text>`,
			`<rect class="bar-err" x="644" y="5" width="9" height="9" fill="`, colErr, `"/>`,
			`<text class="label" x="657" y="13" fill="`, colLabel, `">Errors</text></g>`, "\n")
	}
	w("</svg>")
	return template.HTML(sb.String())
}

// niceTicks returns the y gridline values for a series whose largest value
// is maxVal: 3 to 5 evenly spaced values starting at 0, spaced 1, 2 or 5
// times a power of ten, the last one at least maxVal. It returns just {0}
// when maxVal is not positive.
func niceTicks(maxVal int64) []int64 {
	if maxVal <= 0 {
		return []int64{0}
	}
	for pow := int64(1); pow <= math.MaxInt64/5; pow *= 10 {
		for _, m := range [...]int64{1, 2, 5} {
			s := pow * m
			k := max((maxVal-1)/s+1, 2) // ceil(maxVal/s), at least 2 steps
			if k > 4 {
				continue
			}
			if s > math.MaxInt64/k {
				return []int64{0, maxVal}
			}
			ticks := make([]int64, k+1)
			for i := range ticks {
				ticks[i] = int64(i) * s
			}
			return ticks
		}
		if pow > math.MaxInt64/10 {
			break
		}
	}
	return []int64{0, maxVal}
}

type label struct {
	index int     // bucket whose start the label marks
	text  string  // formatted time
	half  float64 // estimated half width of text, in user units
}

// labelInterval is a spacing of x labels: either a fixed duration below a
// day, a number of days, or a number of months.
type labelInterval struct {
	approx time.Duration
	days   int
	months int
}

var labelIntervals = []labelInterval{
	{approx: time.Minute}, {approx: 2 * time.Minute}, {approx: 5 * time.Minute},
	{approx: 10 * time.Minute}, {approx: 15 * time.Minute}, {approx: 30 * time.Minute},
	{approx: time.Hour}, {approx: 2 * time.Hour}, {approx: 3 * time.Hour},
	{approx: 6 * time.Hour}, {approx: 12 * time.Hour},
	{approx: 24 * time.Hour, days: 1}, {approx: 48 * time.Hour, days: 2},
	{approx: 7 * 24 * time.Hour, days: 7}, {approx: 14 * 24 * time.Hour, days: 14},
	{approx: 30 * 24 * time.Hour, months: 1}, {approx: 91 * 24 * time.Hour, months: 3},
	{approx: 182 * 24 * time.Hour, months: 6}, {approx: 365 * 24 * time.Hour, months: 12},
}

// timeLabels picks a handful of bucket starts to label on the x axis.
func timeLabels(buckets []Bucket, step time.Duration, loc *time.Location) []label {
	n := len(buckets)
	if n == 0 {
		return nil
	}
	span := time.Duration(n) * step
	layout, minIv := "15:04", time.Duration(0)
	switch {
	case step >= 24*time.Hour || span > 72*time.Hour:
		layout, minIv = "Jan 2", 24*time.Hour
	case span > 25*time.Hour:
		layout = "Jan 2 15:04"
	}
	if span > 366*24*time.Hour {
		layout = "Jan 2006"
	}
	iv := labelIntervals[len(labelIntervals)-1]
	for _, c := range labelIntervals {
		if c.approx >= step && c.approx >= minIv && span <= 6*c.approx {
			iv = c
			break
		}
	}
	half := float64(len(layout))*3.3 + 2
	minGap := 2*half + 10
	unit := float64(plotW) / float64(n)

	var out []label
	lastX := math.Inf(-1)
	add := func(i int) {
		x := float64(i) * unit
		if x-lastX < minGap {
			return
		}
		lastX = x
		out = append(out, label{index: i, text: buckets[i].Start.In(loc).Format(layout), half: half})
	}
	for i := range buckets {
		if aligned(buckets, i, iv, loc) {
			add(i)
		}
	}
	if len(out) < 2 && n > 1 {
		// Irregular steps or starts: fall back to evenly spaced labels.
		out, lastX = out[:0], math.Inf(-1)
		every := max((n+4)/5, 1)
		for i := 0; i < n; i += every {
			add(i)
		}
	}
	return out
}

// aligned reports whether bucket i starts on a boundary of iv in loc.
func aligned(buckets []Bucket, i int, iv labelInterval, loc *time.Location) bool {
	t := buckets[i].Start.In(loc)
	if iv.days == 0 && iv.months == 0 {
		mins := int(iv.approx / time.Minute)
		return t.Second() == 0 && t.Nanosecond() == 0 && (t.Hour()*60+t.Minute())%mins == 0
	}
	// A new local day starts here: at midnight, or (for buckets not aligned
	// to local midnight) where the date changes.
	y, m, d := t.Date()
	newDay := t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0
	if !newDay && i > 0 {
		py, pm, pd := buckets[i-1].Start.In(loc).Date()
		newDay = py != y || pm != m || pd != d
	}
	if !newDay {
		return false
	}
	if iv.months > 0 {
		return d == 1 && (int(m)-1)%iv.months == 0
	}
	day := time.Date(y, m, d, 0, 0, 0, 0, time.UTC).Unix() / 86400
	return (day+3)%int64(iv.days) == 0 // day+3: multi-day labels fall on Mondays
}

// tooltip formats the time, or time range for merged buckets, of a bar.
func tooltip(first, last time.Time, step time.Duration, merged bool, loc *time.Location) string {
	s := first.In(loc)
	if !merged {
		return s.Format("2006-01-02 15:04 MST")
	}
	e := last.Add(step).In(loc) // exclusive end
	if s.Format("2006-01-02") == e.Format("2006-01-02") {
		return s.Format("2006-01-02 15:04") + "–" + e.Format("15:04 MST")
	}
	return s.Format("2006-01-02 15:04") + " – " + e.Format("2006-01-02 15:04 MST")
}

// count formats n with noun, pluralised in English.
func count(n int64, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(n, 10) + " " + noun + "s"
}

// compact formats a tick value, abbreviating large ones: 15000 -> "15k".
func compact(v int64) string {
	units := []struct {
		div    float64
		suffix string
	}{{1e12, "T"}, {1e9, "G"}, {1e6, "M"}, {1e3, "k"}}
	if v >= 10000 {
		for _, u := range units {
			if float64(v) >= u.div {
				return strconv.FormatFloat(math.Round(float64(v)/u.div*10)/10, 'f', -1, 64) + u.suffix
			}
		}
	}
	return strconv.FormatInt(v, 10)
}

// satAdd adds two non-negative counts, saturating instead of overflowing.
func satAdd(a, b int64) int64 {
	if a > math.MaxInt64-b {
		return math.MaxInt64
	}
	return a + b
}

// num formats a coordinate with at most one decimal and never an exponent.
func num(v float64) string {
	r := math.Round(v*10) / 10
	if r == 0 {
		r = 0 // no "-0"
	}
	return strconv.FormatFloat(r, 'f', -1, 64)
}

func itoa(v int) string { return strconv.Itoa(v) }

// esc escapes s for SVG text and attribute values; characters not allowed
// in XML become U+FFFD.
func esc(s string) string {
	var b strings.Builder
	_ = xml.EscapeText(&b, []byte(s))
	return b.String()
}
