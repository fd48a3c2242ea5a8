package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
)

// LeakHandler acts on a secret reported public: when it is a live API
// secret, the key is revoked and its owner told. It returns an error only
// when it could not act; a string that is no live secret is not an error.
// url and source are where the secret was found and who found it, as the
// reporter says; ip is the reporter's address.
type LeakHandler interface {
	ReportSecret(ctx context.Context, secret, url, source, ip string) error
}

// leakReport says where secrets were found.
type leakReport struct{ url, source string }

// Report limits.
const (
	maxReportSecrets = 100
	maxReportField   = 2048
)

// routeReport serves POST /secrets/v1/report, the public endpoint where
// anyone who finds a Twinex API secret reports it (like GitHub's credential
// revocation API). It needs no authentication, and its answer is the same
// whether or not a string was a live secret, so it tells nobody which
// secrets work.
//
// Body: {"secrets": ["twxs_...", ...], "url": "...", "source": "..."}, or
// GitHub's secret-scanning format, an array of {"token", "type", "url",
// "source"} objects.
func (s *Server) routeReport() {
	s.mux.HandleFunc("POST /secrets/v1/report", func(w http.ResponseWriter, r *http.Request) {
		ip := auth.ClientIP(r, s.TrustedProxies)
		if err := s.limit(w, s.PublicLimit, "report:"+limitKey(ip)); err != nil {
			s.writeError(w, r, err)
			return
		}
		if s.Leaks == nil {
			s.writeError(w, r, twinex.Errorf(twinex.EndpointNotFound, "Secret reports are not enabled on this server"))
			return
		}
		secrets, rep, err := decodeReport(r)
		if err != nil {
			s.writeError(w, r, err)
			return
		}
		for _, sec := range secrets {
			// Only strings with Twinex's prefix and a valid checksum can
			// be secrets; anything else costs no lookup.
			if !auth.CheckSecret(sec) {
				continue
			}
			if err := s.Leaks.ReportSecret(r.Context(), sec, rep.url, rep.source, ip.String()); err != nil {
				s.writeError(w, r, err)
				return
			}
		}
		writeJSON(w, http.StatusOK, map[string]any{"result": "ok", "received": len(secrets),
			"message": "Thank you. Every live Twinex API secret among these is revoked and its owner notified."})
	})
}

func decodeReport(r *http.Request) ([]string, leakReport, error) {
	var raw json.RawMessage
	dec := json.NewDecoder(r.Body)
	if err := dec.Decode(&raw); err != nil {
		return nil, leakReport{}, invalidReport(bodyTooLarge(err))
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, leakReport{}, invalidReport(bodyTooLarge(err)) // something after the JSON value
	}
	var secrets []string
	var rep leakReport
	if t := bytes.TrimLeft(raw, " \t\r\n"); len(t) > 0 && t[0] == '[' {
		var items []struct {
			Token  string `json:"token"`
			URL    string `json:"url"`
			Source string `json:"source"`
		}
		if err := json.Unmarshal(raw, &items); err != nil {
			return nil, rep, invalidReport(err)
		}
		for _, it := range items {
			secrets = append(secrets, it.Token)
			if rep.url == "" {
				rep.url, rep.source = it.URL, it.Source
			}
		}
	} else {
		var body struct {
			Secrets []string `json:"secrets"`
			URL     string   `json:"url"`
			Source  string   `json:"source"`
		}
		if err := json.Unmarshal(raw, &body); err != nil {
			return nil, rep, invalidReport(err)
		}
		secrets, rep.url, rep.source = body.Secrets, body.URL, body.Source
	}
	if len(secrets) == 0 || len(secrets) > maxReportSecrets {
		return nil, rep, twinex.Errorf(twinex.InvalidJson, "A report names between 1 and %d secrets", maxReportSecrets)
	}
	if len(rep.url) > maxReportField || len(rep.source) > maxReportField {
		return nil, rep, twinex.Errorf(twinex.InvalidJson, "url and source have at most %d characters", maxReportField)
	}
	seen := map[string]bool{}
	out := secrets[:0]
	for _, sec := range secrets {
		sec = strings.TrimSpace(sec)
		if sec == "" {
			return nil, rep, twinex.Errorf(twinex.InvalidJson, "Every secret must be a non-empty string")
		}
		if !seen[sec] {
			seen[sec] = true
			out = append(out, sec)
		}
	}
	return out, rep, nil
}

func invalidReport(err error) error {
	if twinex.ErrorReason(err) == twinex.InvalidJson {
		return err
	}
	return twinex.Errorf(twinex.InvalidJson, `Expected {"secrets": ["twxs_..."], "url": "...", "source": "..."}`)
}
