package gemini

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"
)

// Reasons that callers commonly branch on. Gemini's full list is longer; any
// reason the server sends is kept in APIError.Reason whether listed here or not.
const (
	ReasonInvalidNonce      = "InvalidNonce"
	ReasonInvalidSignature  = "InvalidSignature"
	ReasonRateLimit         = "RateLimit"
	ReasonInsufficientFunds = "InsufficientFunds"
	ReasonOrderNotFound     = "OrderNotFound"
	ReasonMissingRole       = "MissingRole"
	ReasonInvalidSymbol     = "InvalidSymbol"
	ReasonInvalidPrice      = "InvalidPrice"
	ReasonInvalidQuantity   = "InvalidQuantity"
	ReasonMaintenance       = "Maintenance"
	ReasonSystem            = "System"
)

// APIError is an error answered by the server: any response with a non-2xx
// status, and any JSON object with "result":"error" whatever the status
// (Gemini sometimes reports errors with HTTP 200).
//
// Reason is the machine code from the body ("InvalidNonce", "RateLimit", ...)
// and is empty when the body carried none, e.g. an HTML 502 page from a proxy.
// Message is the body's human text or, for a body that is not a Gemini error
// object, the start of the body (or the HTTP status text when it is empty).
type APIError struct {
	Status  int    // HTTP status code
	Reason  string // Gemini reason code; "" if the body had none
	Message string
}

// Error returns "<reason>: <message> (HTTP <status>)". The client wraps it
// with the method and path ("gemini: POST /v1/order/new: ...").
func (e *APIError) Error() string {
	reason := e.Reason
	if reason == "" {
		reason = "no reason"
	}
	return fmt.Sprintf("%s: %s (HTTP %d)", reason, e.Message, e.Status)
}

// IsReason reports whether err is, or wraps, an *APIError whose Reason equals
// reason. An empty reason never matches.
func IsReason(err error, reason string) bool {
	var e *APIError
	return reason != "" && errors.As(err, &e) && e.Reason == reason
}

// IsRateLimited reports whether err is a rate-limit rejection: HTTP 429 or
// reason RateLimit. Gemini's 429 body reason varies ("RateLimit" in the docs,
// "Too Many Requests" in its OpenAPI example), so the status counts too.
func IsRateLimited(err error) bool {
	var e *APIError
	return errors.As(err, &e) && (e.Status == http.StatusTooManyRequests || e.Reason == ReasonRateLimit)
}

// errorBody is Gemini's error object.
type errorBody struct {
	Result  string `json:"result"`
	Reason  string `json:"reason"`
	Message string `json:"message"`
}

// maxErrorText bounds how much of a non-JSON error body goes into Message.
const maxErrorText = 256

// checkResponse returns the *APIError that the status and body describe, or
// nil for a successful response.
func checkResponse(status int, body []byte) error {
	ok := status >= 200 && status <= 299
	trimmed := strings.TrimSpace(string(body))
	var eb errorBody
	isObject := strings.HasPrefix(trimmed, "{") && json.Unmarshal(body, &eb) == nil
	if ok {
		if isObject && eb.Result == "error" {
			return &APIError{Status: status, Reason: eb.Reason, Message: eb.Message}
		}
		return nil
	}
	if isObject && (eb.Reason != "" || eb.Message != "") {
		return &APIError{Status: status, Reason: eb.Reason, Message: eb.Message}
	}
	msg := trimmed
	if len(msg) > maxErrorText {
		msg = msg[:maxErrorText]
		for !utf8.ValidString(msg) {
			msg = msg[:len(msg)-1]
		}
		msg += "..."
	}
	if msg == "" {
		msg = http.StatusText(status)
	}
	return &APIError{Status: status, Message: msg}
}
