package gemini_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	"github.com/twinex/twinex/gemini"
)

// TestErrors checks that every failure shape becomes an *APIError with the
// status, reason and message of the response.
func TestErrors(t *testing.T) {
	html502 := "<html><head><title>502 Bad Gateway</title></head><body>bad gateway</body></html>"
	tests := []struct {
		name    string
		status  int
		body    string
		want    gemini.APIError
		limited bool
	}{
		{"400 InvalidNonce", 400, fixInvalidNonce,
			gemini.APIError{Status: 400, Reason: "InvalidNonce", Message: "Nonce '1490722675108' has not increased since your last call to the Gemini API."}, false},
		{"400 InvalidNonce, time-based key", 400, fixInvalidNonceT,
			gemini.APIError{Status: 400, Reason: "InvalidNonce", Message: "Nonce '1695066299324' is not within 30 seconds of server time '1695066301''"}, false},
		{"429 RateLimit", 429, fixRateLimit,
			gemini.APIError{Status: 429, Reason: "RateLimit", Message: "Requests were made too frequently"}, true},
		{"429 with the OpenAPI body", 429, fixTooManyRequests,
			gemini.APIError{Status: 429, Reason: "Too Many Requests", Message: "Too Many Requests"}, true},
		{"403 MissingRole", 403, fixMissingRoleShort,
			gemini.APIError{Status: 403, Reason: "MissingRole", Message: "To access this endpoint, you need to log in to the website and go to the settings page to assign one of these roles [FundManager] to API key wujB3szN54gtJ4QDhqRJ which currently has roles [Trader]"}, false},
		{"200 with result error", 200, `{"result":"error","reason":"InsufficientFunds","message":"Failed to withdraw"}`,
			gemini.APIError{Status: 200, Reason: "InsufficientFunds", Message: "Failed to withdraw"}, false},
		{"502 not JSON", 502, html502,
			gemini.APIError{Status: 502, Message: html502}, false},
		{"503 empty body", 503, "",
			gemini.APIError{Status: 503, Message: "Service Unavailable"}, false},
		{"500 JSON without reason", 500, `{"error":"boom"}`,
			gemini.APIError{Status: 500, Message: `{"error":"boom"}`}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFake(t)
			f.on("POST /v1/withdraw/btc", tt.status, tt.body)
			_, err := f.client().Withdraw(context.Background(), "btc", "addr", "1", "")
			var ae *gemini.APIError
			if !errors.As(err, &ae) {
				t.Fatalf("err = %v (%T), want *APIError", err, err)
			}
			if *ae != tt.want {
				t.Errorf("got  %#v\nwant %#v", *ae, tt.want)
			}
			if tt.want.Reason != "" {
				if !gemini.IsReason(err, tt.want.Reason) {
					t.Errorf("IsReason(%q) = false", tt.want.Reason)
				}
				if !strings.Contains(err.Error(), tt.want.Reason) || !strings.Contains(err.Error(), tt.want.Message) {
					t.Errorf("Error() = %q lacks reason or message", err)
				}
			}
			if !strings.Contains(err.Error(), "POST /v1/withdraw/btc") {
				t.Errorf("Error() = %q lacks the endpoint", err)
			}
			if gemini.IsReason(err, "System") || gemini.IsReason(err, "") {
				t.Error("IsReason matched a reason it should not")
			}
			if gemini.IsRateLimited(err) != tt.limited {
				t.Errorf("IsRateLimited = %v, want %v", !tt.limited, tt.limited)
			}
		})
	}
}

// TestErrorsPublic checks the same mapping on a public GET.
func TestErrorsPublic(t *testing.T) {
	f := newFake(t)
	f.on("GET /v1/pubticker/nope", http.StatusBadRequest, `{"result":"error","reason":"InvalidSymbol","message":"Supplied value 'nope' is not a valid symbol."}`)
	_, err := gemini.New(f.srv.URL, "", "").Ticker(context.Background(), "nope")
	if !gemini.IsReason(err, gemini.ReasonInvalidSymbol) {
		t.Fatalf("err = %v, want InvalidSymbol", err)
	}
	// An unknown path: the fake answers 404 EndpointNotFound.
	_, err = gemini.New(f.srv.URL, "", "").PriceFeed(context.Background())
	var ae *gemini.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Reason != "EndpointNotFound" {
		t.Fatalf("err = %v, want 404 EndpointNotFound", err)
	}
}

// TestErrorsNotAPI checks that transport and decoding failures are not
// *APIError.
func TestErrorsNotAPI(t *testing.T) {
	f := newFake(t)
	f.on("POST /v1/balances", 200, `{"not":"an array"}`)
	_, err := f.client().Balances(context.Background())
	var ae *gemini.APIError
	if err == nil || errors.As(err, &ae) {
		t.Errorf("decode failure: err = %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := f.client().Balances(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: err = %v", err)
	}
}
