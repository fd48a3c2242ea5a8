package web_test

import (
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/web"
)

func TestOperatorReviewsIdentity(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.AdminToken = "operator-token-123" })
	for _, email := range []string{"lee@example.com", "max@example.com"} {
		b := e.browser("192.0.2.60")
		verifiedUser(t, e, b, email)
		b.get("/settings/identity")
		wantStatus(t, b.post("/settings/identity", identity()), http.StatusSeeOther)
	}
	lee, max := mustUser(t, e, "lee@example.com"), mustUser(t, e, "max@example.com")
	subOf := func(u twinex.User) string {
		sub, err := e.db.Identity(t.Context(), u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return strconv.FormatInt(sub.Submitted, 10)
	}

	op := e.browser("192.0.2.61")
	if p := op.get("/operator"); p.Header.Get("Location") != "/operator/login" {
		t.Fatalf("signed-out operator page: %d %q", p.StatusCode, p.Header.Get("Location"))
	}
	op.get("/operator/login")
	wantStatus(t, op.post("/operator/login", url.Values{"token": {"wrong"}}), http.StatusUnauthorized)
	// A user's session is not an operator's.
	user := e.browser("192.0.2.62")
	user.login("lee@example.com", goodPassword)
	user.get("/settings")
	wantStatus(t, user.post("/operator/kyc/"+itoa(lee.ID), url.Values{"decision": {"approve"}}), http.StatusUnauthorized)

	op.get("/operator/login")
	wantStatus(t, op.post("/operator/login", url.Values{"token": {"operator-token-123"}}), http.StatusSeeOther)
	p := op.get("/operator")
	wantStatus(t, p, http.StatusOK)
	wantBody(t, p, "lee@example.com", "max@example.com", "Ada Lovelace")

	wantStatus(t, op.post("/operator/kyc/"+itoa(max.ID), url.Values{"decision": {"reject"}, "submitted": {subOf(max)}}), http.StatusUnprocessableEntity)
	// A decision on details the operator did not see is refused.
	wantStatus(t, op.post("/operator/kyc/"+itoa(lee.ID), url.Values{"decision": {"approve"}, "submitted": {"12345"}}), http.StatusConflict)
	op.get("/operator")
	wantStatus(t, op.post("/operator/kyc/"+itoa(lee.ID), url.Values{"decision": {"approve"}, "submitted": {subOf(lee)}}), http.StatusSeeOther)
	op.get("/operator")
	wantStatus(t, op.post("/operator/kyc/"+itoa(max.ID), url.Values{"decision": {"reject"}, "reason": {"The address is incomplete."}, "submitted": {subOf(max)}}), http.StatusSeeOther)
	op.get("/operator")
	wantStatus(t, op.post("/operator/kyc/"+itoa(lee.ID), url.Values{"decision": {"reject"}, "reason": {"late"}, "submitted": {subOf(lee)}}), http.StatusConflict)

	if u := mustUser(t, e, "lee@example.com"); u.Identity != twinex.IdentityVerified {
		t.Fatalf("lee is %q", u.Identity)
	}
	if u := mustUser(t, e, "max@example.com"); u.Identity != twinex.IdentityRejected {
		t.Fatalf("max is %q", u.Identity)
	}
	m := e.mailsTo("max@example.com")
	if last := m[len(m)-1]; last.Subject != "Your identity could not be verified" {
		t.Fatalf("max's last mail %q", last.Subject)
	}
	mx := e.browser("192.0.2.63")
	mx.login("max@example.com", goodPassword)
	wantBody(t, mx.get("/settings/identity"), "The address is incomplete.")

	// Signing out ends the operator's access; a changed token voids cookies.
	op.get("/operator")
	op.post("/operator/logout", nil)
	if p := op.get("/operator"); p.Header.Get("Location") != "/operator/login" {
		t.Fatal("operator page after sign-out")
	}
}

func TestOperatorLoginThrottled(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.AdminToken = "operator-token-123" })
	op := e.browser("192.0.2.64")
	for range 5 {
		op.get("/operator/login")
		op.post("/operator/login", url.Values{"token": {"guess"}})
	}
	op.get("/operator/login")
	wantStatus(t, op.post("/operator/login", url.Values{"token": {"operator-token-123"}}), http.StatusTooManyRequests)
	// Another address is not locked out.
	other := e.browser("192.0.2.65")
	other.get("/operator/login")
	wantStatus(t, other.post("/operator/login", url.Values{"token": {"operator-token-123"}}), http.StatusSeeOther)
}

// TestOperatorLogoutEndsTheSession: a cookie kept from before the operator
// signed out no longer opens the operator's pages, and the session ends on
// its own after its lifetime.
func TestOperatorLogoutEndsTheSession(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.AdminToken = "operator-token-123" })
	op := e.browser("192.0.2.61")
	op.get("/operator/login")
	wantStatus(t, op.post("/operator/login", url.Values{"token": {"operator-token-123"}}), http.StatusSeeOther)
	wantStatus(t, op.get("/operator"), http.StatusOK)
	u, _ := url.Parse(e.base + "/operator")
	kept := op.jar.Cookies(u)

	wantStatus(t, op.post("/operator/logout", nil), http.StatusSeeOther)
	thief := e.browser("192.0.2.99")
	thief.jar.SetCookies(u, kept)
	if p := thief.get("/operator"); p.StatusCode != http.StatusSeeOther || p.Header.Get("Location") != "/operator/login" {
		t.Fatalf("a cookie kept from before the logout: %d %q", p.StatusCode, p.Header.Get("Location"))
	}

	op.get("/operator/login")
	wantStatus(t, op.post("/operator/login", url.Values{"token": {"operator-token-123"}}), http.StatusSeeOther)
	e.advance(8*time.Hour + time.Second)
	if p := op.get("/operator"); p.StatusCode != http.StatusSeeOther {
		t.Fatalf("an operator session past its lifetime: %d", p.StatusCode)
	}
}

// TestOperatorFormsNeedTheOperatorsToken: once signed in, the operator's
// forms carry a token of the operator's session; one derived from a
// (possibly planted) pre-session cookie is refused.
func TestOperatorFormsNeedTheOperatorsToken(t *testing.T) {
	e := newEnv(t, func(s *web.Server) { s.AdminToken = "operator-token-123" })
	op := e.browser("192.0.2.61")
	op.get("/operator/login")
	preToken := op.csrf
	wantStatus(t, op.post("/operator/login", url.Values{"token": {"operator-token-123"}}), http.StatusSeeOther)
	op.get("/operator")
	if op.csrf == preToken {
		t.Fatal("the operator's pages still carry the pre-session token")
	}
	wantStatus(t, op.postRaw("/operator/kyc/1", url.Values{"csrf": {preToken}, "decision": {"approve"}}), http.StatusForbidden)
	wantStatus(t, op.post("/operator/logout", nil), http.StatusSeeOther)
}
