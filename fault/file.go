package fault

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// Spec is a Rule as JSON: in a faults file and in the admin API's bodies,
// which share the format so that a rule can be copied from one to the
// other. Latency is a Go duration ("250ms", "2s"); From and Until are
// RFC 3339 times; every field may be omitted.
//
//	{"id":"slow","key":"account-...","error":"RateLimit","count":3,
//	 "probability":0.5,"latency":"250ms","expire_heartbeat":false,"public":false}
//	{"id":"maintenance","error":"Maintenance","public":true,
//	 "from":"2026-12-02T06:00:00Z","until":"2026-12-02T06:30:00Z"}
type Spec struct {
	ID              string  `json:"id"`
	Key             string  `json:"key"`
	Error           string  `json:"error"`
	Count           int     `json:"count"`
	Probability     float64 `json:"probability"`
	Latency         string  `json:"latency"`
	ExpireHeartbeat bool    `json:"expire_heartbeat"`
	Public          bool    `json:"public"`
	From            string  `json:"from,omitempty"`
	Until           string  `json:"until,omitempty"`
	DropSockets     bool    `json:"drop_sockets,omitempty"`
	FrameDelay      string  `json:"frame_delay,omitempty"`
	StopHeartbeats  bool    `json:"stop_heartbeats,omitempty"`
}

// Rule converts s to a validated Rule; errors wrap ErrInvalid.
func (s Spec) Rule() (Rule, error) {
	r := Rule{ID: s.ID, Key: strings.TrimSpace(s.Key), Error: s.Error, Count: s.Count, Probability: s.Probability,
		ExpireHeartbeat: s.ExpireHeartbeat, Public: s.Public, DropSockets: s.DropSockets, StopHeartbeats: s.StopHeartbeats}
	if s.FrameDelay != "" {
		d, err := time.ParseDuration(s.FrameDelay)
		if err != nil {
			return Rule{}, invalid("frame_delay %q must be a duration such as 250ms or 2s", s.FrameDelay)
		}
		r.FrameDelay = d
	}
	if s.Latency != "" {
		d, err := time.ParseDuration(s.Latency)
		if err != nil {
			return Rule{}, invalid("latency %q must be a duration such as 250ms or 2s", s.Latency)
		}
		r.Latency = d
	}
	for _, t := range []struct {
		s   string
		dst *time.Time
	}{{s.From, &r.From}, {s.Until, &r.Until}} {
		if t.s == "" {
			continue
		}
		v, err := time.Parse(time.RFC3339, t.s)
		if err != nil {
			return Rule{}, invalid("from and until must be RFC 3339 times such as 2026-12-02T06:00:00Z, not %q", t.s)
		}
		*t.dst = v
	}
	if r.ID != "" && !validID(r.ID) {
		return Rule{}, invalidID(r.ID)
	}
	if err := r.Validate(); err != nil {
		return Rule{}, err
	}
	return r, nil
}

// SpecOf returns r as JSON.
func SpecOf(r Rule) Spec {
	sp := Spec{ID: r.ID, Key: r.Key, Error: r.Error, Count: r.Count, Probability: r.Probability,
		Latency: r.Latency.String(), ExpireHeartbeat: r.ExpireHeartbeat, Public: r.Public,
		DropSockets: r.DropSockets, StopHeartbeats: r.StopHeartbeats}
	if r.FrameDelay != 0 {
		sp.FrameDelay = r.FrameDelay.String()
	}
	if !r.From.IsZero() {
		sp.From = r.From.UTC().Format(time.RFC3339Nano)
	}
	if !r.Until.IsZero() {
		sp.Until = r.Until.UTC().Format(time.RFC3339Nano)
	}
	return sp
}

// LoadFile reads a faults file: a JSON array of Specs, decoded strictly
// (an unknown field or trailing data is an error, wrapping ErrInvalid, as
// is an invalid rule). A missing file gives an error wrapping
// fs.ErrNotExist, which callers treating the file as optional check for.
// Add each rule to an Injector to apply it.
func LoadFile(path string) ([]Rule, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("fault rules: %w", err)
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var specs []Spec
	if err := dec.Decode(&specs); err != nil {
		return nil, fmt.Errorf("fault rules %s: %w: %w", path, ErrInvalid, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, fmt.Errorf("fault rules %s: %w: unexpected data after the array", path, ErrInvalid)
	}
	rules := make([]Rule, 0, len(specs))
	ids := map[string]bool{}
	for i, s := range specs {
		r, err := s.Rule()
		if err == nil && ids[r.ID] {
			err = invalid("a rule with id %q comes earlier in the file", r.ID)
		}
		if err != nil {
			return nil, fmt.Errorf("fault rules %s: rule %d: %w", path, i+1, err)
		}
		if r.ID != "" {
			ids[r.ID] = true
		}
		rules = append(rules, r)
	}
	return rules, nil
}
