package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strings"
	"unicode"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
)

// LeakHandler acts on a secret reported public: when it is a live API
// secret, the key is revoked and its owner told. It returns an error only
// when it could not act; a string that is no live secret is not an error.
// url and source are where the secret was found and who found it, as the
// reporter says (checked: an http(s) URL or "", and one line of text); ip
// is the reporter's address.
type LeakHandler interface {
	ReportSecret(ctx context.Context, secret, url, source, ip string) error
}

// Report limits.
const (
	maxReportSecrets = 100
	maxReportURL     = 2048
	maxReportSource  = 100
)

// leak is one reported secret and where it was found.
type leak struct{ secret, url, source string }

// routeReport serves POST /secrets/v1/report, the public endpoint where
// anyone who finds a Twinex API secret reports it (like GitHub's credential
// revocation API). It needs no authentication, and its answer is the same
// whether or not a string was a live secret (even when acting on one
// failed, which is logged), so it tells nobody which secrets work.
//
// Body: {"secrets": ["twxs_...", ...], "url": "...", "source": "..."}, or
// GitHub's secret-scanning format, an array of {"token", "type", "url",
// "source"} objects.
func (s *Server) routeReport() {
	s.mux.Handle("POST /secrets/v1/report", s.public(s.reportSecrets))
}

func (s *Server) reportSecrets(w http.ResponseWriter, r *http.Request) error {
	ip := auth.ClientIP(r, s.TrustedProxies)
	if err := s.limit(w, s.PublicLimit, "report:"+limitKey(ip)); err != nil {
		return err
	}
	if s.Leaks == nil {
		return twinex.Errorf(twinex.EndpointNotFound, "Secret reports are not enabled on this server")
	}
	leaks, err := decodeReport(r)
	if err != nil {
		return err
	}
	// A reporter hanging up must not stop a revocation half way, nor
	// the owner's alert after it.
	ctx := context.WithoutCancel(r.Context())
	for _, l := range leaks {
		// Only strings with Twinex's prefix and a valid checksum can
		// be secrets; anything else costs no lookup.
		if !auth.CheckSecret(l.secret) {
			continue
		}
		if err := s.Leaks.ReportSecret(ctx, l.secret, l.url, l.source, ip.String()); err != nil {
			s.Logger.Error("secret report: could not act on a reported secret", "reporter", ip.String(), "err", err)
		}
	}
	writeJSON(w, http.StatusOK, reportReply{Result: "ok", Received: len(leaks),
		Message: "Thank you. Every live Twinex API secret among these is revoked and its owner notified."})
	return nil
}

// reportReply is the answer to a report of leaked secrets.
type reportReply struct {
	Message  string `json:"message"`
	Received int    `json:"received"` // distinct leaks read
	Result   string `json:"result"`
}

// decodeReport reads either body format into distinct, checked leaks.
func decodeReport(r *http.Request) ([]leak, error) {
	var raw json.RawMessage
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&raw); err != nil {
		return nil, invalidReport(bodyTooLarge(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, invalidReport(bodyTooLarge(err)) // something after the JSON value
	}
	var leaks []leak
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		var items []struct {
			Token  *string `json:"token"`
			URL    string  `json:"url"`
			Source string  `json:"source"`
		}
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, invalidReport(err)
		}
		for _, it := range items {
			if it.Token == nil {
				return nil, twinex.Errorf(twinex.InvalidJson, "Every item needs a token")
			}
			leaks = append(leaks, leak{*it.Token, it.URL, it.Source})
		}
	} else {
		var body struct {
			Secrets []string `json:"secrets"`
			URL     string   `json:"url"`
			Source  string   `json:"source"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, invalidReport(err)
		}
		for _, sec := range body.Secrets {
			leaks = append(leaks, leak{sec, body.URL, body.Source})
		}
	}
	if len(leaks) == 0 || len(leaks) > maxReportSecrets {
		return nil, twinex.Errorf(twinex.InvalidJson, "A report names between 1 and %d secrets", maxReportSecrets)
	}
	seen := map[string]bool{}
	out := leaks[:0]
	for _, l := range leaks {
		l.secret = strings.TrimSpace(l.secret)
		if l.secret == "" {
			return nil, twinex.Errorf(twinex.InvalidJson, "Every secret must be a non-empty string")
		}
		if err := checkReportURL(l.url); err != nil {
			return nil, err
		}
		if len(l.source) > maxReportSource || strings.IndexFunc(l.source, unicode.IsControl) >= 0 {
			return nil, twinex.Errorf(twinex.InvalidJson, "source is one line of at most %d characters", maxReportSource)
		}
		if !seen[l.secret] {
			seen[l.secret] = true
			out = append(out, l)
		}
	}
	return out, nil
}

// checkReportURL accepts "" or an absolute http(s) URL on one line: it is
// quoted in the mail to the key's owner, so it must not carry text of the
// reporter's choosing beyond an address.
func checkReportURL(s string) error {
	if s == "" {
		return nil
	}
	u, err := url.Parse(s)
	if err != nil || len(s) > maxReportURL || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		strings.IndexFunc(s, func(r rune) bool { return unicode.IsControl(r) || unicode.IsSpace(r) }) >= 0 {
		return twinex.Errorf(twinex.InvalidJson, "url must be an http or https address of at most %d characters", maxReportURL)
	}
	return nil
}

func invalidReport(err error) error {
	if twinex.ErrorReason(err) == twinex.InvalidJson {
		return err
	}
	return twinex.Errorf(twinex.InvalidJson, `Expected {"secrets": ["twxs_..."], "url": "...", "source": "..."}`)
}
