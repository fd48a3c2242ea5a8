package web

import (
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/chart"
	"github.com/twinex/twinex/quota"
	"github.com/twinex/twinex/ratelimit"
)

// usageChart is one of a key's charts.
type usageChart struct {
	ID, Title string
	SVG       template.HTML
	Requests  int64
	Errors    int64
}

type usageView struct {
	Key      twinex.APIKey
	Active   bool
	Status   string // "Active", "Revoked" or "Expired"
	Charts   []usageChart
	Quota    quota.Usage
	HasQuota bool
	Limit    string // the key's rate limit, in words
	ThisMin  int64  // requests in the current minute
	MFAOn    bool
}

// keyUsage shows one key's requests per minute over the last hour, day
// and 30 days, beside its use of the daily quota and the rate limit.
func (s *Server) keyUsage(w http.ResponseWriter, r *http.Request) {
	k, ok := s.ownKey(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	st := state(r)
	now := st.now
	uv := usageView{Key: k, Active: k.Active(now.UnixNano()), Status: keyStatus(k, now.UnixNano())}
	var err error
	if s.Watch != nil {
		end := now.Unix()/60 + 1 // the minute after the current one
		points, err := s.Watch.Usage(ctx, k.ID, end-30*1440, end)
		if err != nil {
			s.fail(w, r, err)
			return
		}
		for _, p := range points {
			if p.Minute == end-1 {
				uv.ThisMin = p.Requests
			}
		}
		uv.Charts = []usageChart{
			usageSeries("hour", "Last hour, per minute", points, end, 60, 1),
			usageSeries("day", "Last 24 hours, per 5 minutes", points, end, 1440, 5),
			usageSeries("month", "Last 30 days, per hour", points, end, 30*1440, 60),
		}
	}
	if s.Quota != nil {
		if uv.Quota, err = s.Quota.Usage(ctx, k, now); err != nil {
			s.fail(w, r, err)
			return
		}
		uv.HasQuota = true
	}
	uv.Limit = "none on this server"
	if s.KeyLimiter != nil {
		l := s.KeyLimiter.Limit()
		if o, ok := s.KeyLimiter.OverrideFor(k.ID); ok {
			l = o
		}
		uv.Limit = limitText(l)
	}
	title := "Usage of " + k.ID
	if k.Label != "" {
		title = "Usage of " + k.Label
	}
	s.render(w, r, http.StatusOK, "keyusage.html", view{Title: title, Nav: "api", Data: uv})
}

// usageSeries sums per-minute points into steps of step minutes covering
// the span minutes before end (Unix minutes, exclusive), and draws them.
func usageSeries(id, title string, points []twinex.UsagePoint, end, span, step int64) usageChart {
	end = (end + step - 1) / step * step // whole steps: hours start on the hour
	start := end - span
	n := span / step
	buckets := make([]chart.Bucket, n)
	for i := range buckets {
		buckets[i].Start = time.Unix((start+int64(i)*step)*60, 0).UTC()
	}
	c := usageChart{ID: id, Title: title}
	for _, p := range points {
		if p.Minute < start || p.Minute >= end {
			continue
		}
		b := &buckets[(p.Minute-start)/step]
		b.Requests += p.Requests
		b.Errors += p.Errors
		c.Requests += p.Requests
		c.Errors += p.Errors
	}
	c.SVG = chart.Bars(title, buckets, time.Duration(step)*time.Minute, time.UTC)
	return c
}

// limitText says a rate limit in words: "600 requests per minute, with
// up to 5 more queued".
func limitText(l ratelimit.Limit) string {
	if l.Unlimited() {
		return "none on this server"
	}
	per := l.Per.String()
	switch l.Per {
	case time.Second:
		per = "second"
	case time.Minute:
		per = "minute"
	case time.Hour:
		per = "hour"
	}
	s := fmt.Sprintf("%d requests per %s", l.Rate, per)
	if l.Burst > 0 {
		s += fmt.Sprintf(", then up to %d more queued", l.Burst)
	}
	return s
}
