package web_test

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/twinex/twinex/web"
)

// TestForgotAnswersBeforeLookingUp: the request only queues the reset, so
// a known and an unknown email take the same path; the mail follows from
// the queue.
func TestForgotAnswersBeforeLookingUp(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	e.mu.Lock()
	before := len(e.mails)
	e.mu.Unlock()
	b := e.browser("192.0.2.11")
	b.get("/forgot")
	wantStatus(t, b.post("/forgot", url.Values{"email": {"ann@example.com"}}), http.StatusOK)
	e.mu.Lock()
	sent := len(e.mails) - before
	e.mu.Unlock()
	if sent != 0 {
		t.Fatal("the reset mail was sent inside the request")
	}
	if ms := e.mailsTo("ann@example.com"); !strings.Contains(ms[len(ms)-1].Subject, "Reset your Twinex password") {
		t.Fatalf("no reset mail from the queue: %+v", ms)
	}
}

// TestResetMailLimits: one address gets at most ResetMailsPerEmail reset
// mails an hour, however many clients ask; one client may ask
// ResetRequestsPerClient times an hour, then gets 429 (an IPv6 client
// counts as its /64). Both limits free up as the window moves on.
func TestResetMailLimits(t *testing.T) {
	e := newEnv(t)
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	resets := func() int {
		n := 0
		for _, m := range e.mailsTo("ann@example.com") {
			if strings.Contains(m.Subject, "Reset") {
				n++
			}
		}
		return n
	}
	for i := range 60 {
		b := e.browser(fmt.Sprintf("198.51.100.%d", i+1))
		b.get("/forgot")
		wantStatus(t, b.post("/forgot", url.Values{"email": {"ann@example.com"}}), http.StatusOK)
	}
	if n := resets(); n != web.ResetMailsPerEmail {
		t.Fatalf("60 requests for one address sent %d mails, want %d", n, web.ResetMailsPerEmail)
	}

	b := e.browser("[2001:db8:1:2::1]")
	b.get("/forgot")
	for i := range web.ResetRequestsPerClient {
		wantStatus(t, b.post("/forgot", url.Values{"email": {fmt.Sprintf("x%d@example.com", i)}}), http.StatusOK)
	}
	same64 := e.browser("[2001:db8:1:2::ffff]")
	same64.get("/forgot")
	p := same64.post("/forgot", url.Values{"email": {"y@example.com"}})
	wantStatus(t, p, http.StatusTooManyRequests)
	wantBody(t, p, "Too many reset requests")
	other := e.browser("[2001:db8:1:3::1]")
	other.get("/forgot")
	wantStatus(t, other.post("/forgot", url.Values{"email": {"y@example.com"}}), http.StatusOK)

	e.advance(web.ResetLimitWindow + time.Second)
	wantStatus(t, same64.post("/forgot", url.Values{"email": {"ann@example.com"}}), http.StatusOK)
	if n := resets(); n != web.ResetMailsPerEmail+1 {
		t.Fatalf("after the window: %d reset mails, want %d", n, web.ResetMailsPerEmail+1)
	}
}

// TestLinkHostMustBeLoopbackWithANumericPort: without BaseURL, only a
// loopback Host with at most a numeric port makes an emailed link, rebuilt
// from its parts.
func TestLinkHostMustBeLoopbackWithANumericPort(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.BaseURL = "" })
	e.browser("192.0.2.10").signup("ann@example.com", goodPassword)
	for host, want := range map[string]string{
		"127.0.0.1:18630.evil.example": "",
		"127.0.0.1:18630@evil.example": "",
		"127.0.0.1:0x10":               "",
		"127.0.0.1:99999":              "",
		"127.0.0.1:080":                "",
		"localhost.evil.example":       "",
		"[::1%25eth0]:8080":            "",
		"127.0.0.1:18630":              "http://127.0.0.1:18630/reset?token=",
		"[::1]:8080":                   "http://[::1]:8080/reset?token=",
		"[::1]":                        "http://[::1]/reset?token=",
		"localhost":                    "http://localhost/reset?token=",
	} {
		before := len(e.mailsTo("ann@example.com"))
		b := e.browser("192.0.2.20")
		b.get("/forgot")
		req := httptestPost(b, "/forgot", url.Values{"email": {"ann@example.com"}, "csrf": {b.csrf}})
		req.Host = host
		wantStatus(t, b.do(req), http.StatusOK)
		ms := e.mailsTo("ann@example.com")
		switch {
		case want == "" && len(ms) != before:
			t.Errorf("Host %q: mailed %q", host, ms[len(ms)-1].Text)
		case want != "" && (len(ms) != before+1 || !strings.Contains(ms[len(ms)-1].Text, want)):
			t.Errorf("Host %q: mails %+v, want a link starting %s", host, ms[before:], want)
		}
		e.advance(web.ResetLimitWindow) // past the per-email limit
	}
}

// httptestPost is a form POST of b's to path, to adjust before b.do.
func httptestPost(b *browser, path string, form url.Values) *http.Request {
	req := httptest.NewRequest(http.MethodPost, b.e.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return req
}
