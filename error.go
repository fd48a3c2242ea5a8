package twinex

import (
	"errors"
	"fmt"
)

// Gemini error reasons (reference §1.9). The reason is the stable code that
// clients match on; tests compare reasons, never messages.
const (
	AccountsOnGroupOnlyApi    = "AccountsOnGroupOnlyApi"
	ClientOrderIdTooLong      = "ClientOrderIdTooLong"
	ClientOrderIdMustBeStr    = "ClientOrderIdMustBeString"
	ConflictingOptions        = "ConflictingOptions"
	EndpointMismatch          = "EndpointMismatch"
	EndpointNotFound          = "EndpointNotFound"
	InsufficientFunds         = "InsufficientFunds"
	InvalidAccountName        = "InvalidAccountName"
	InvalidAccountType        = "InvalidAccountType"
	ConflictingAccountName    = "ConflictingAccountName"
	MissingName               = "MissingName"
	MissingAccountName        = "MissingAccountName"
	InvalidFundTransfer       = "InvalidFundTransfer"
	InvalidJson               = "InvalidJson"
	InvalidNonce              = "InvalidNonce"
	InvalidOrderType          = "InvalidOrderType"
	InvalidPrice              = "InvalidPrice"
	InvalidQuantity           = "InvalidQuantity"
	InvalidSide               = "InvalidSide"
	InvalidSignature          = "InvalidSignature"
	InvalidStopPrice          = "InvalidStopPrice"
	InvalidStopPriceBuy       = "InvalidStopPriceBuy"
	InvalidStopPriceSell      = "InvalidStopPriceSell"
	InvalidStopPriceRatio     = "InvalidStopPriceRatio"
	InvalidSymbol             = "InvalidSymbol"
	InvalidTimestampInPayload = "InvalidTimestampInPayload"
	Maintenance               = "Maintenance"
	MarketNotOpen             = "MarketNotOpen"
	MissingAccounts           = "MissingAccounts"
	MissingApikeyHeader       = "MissingApikeyHeader"
	MissingNonce              = "MissingNonce"
	MissingOrderField         = "MissingOrderField"
	MissingPayloadHeader      = "MissingPayloadHeader"
	MissingPayloadKey         = "MissingPayloadKey"
	MissingRole               = "MissingRole"
	MissingSignatureHeader    = "MissingSignatureHeader"
	OptionsMustBeArray        = "OptionsMustBeArray"
	OrderNotFound             = "OrderNotFound"
	RateLimit                 = "RateLimit"
	RemoteAddressForbidden    = "RemoteAddressForbidden"
	System                    = "System"
	UnsupportedOption         = "UnsupportedOption"
	UnsupportedNetwork        = "UnsupportedNetwork"
	ExceededMaxAccounts       = "ExceededMaxAccountsInGroup"
)

// Twinex's own reasons, for what Gemini's API has no word for (the admin
// API, the dashboard's services). They are 400s like any other.
const (
	// AccountExists: a user with this email already exists.
	AccountExists = "AccountExists"
	// InvalidEmail: not an email address (ParseEmail).
	InvalidEmail = "InvalidEmail"
	// InvalidPassword: the password breaks a password rule.
	InvalidPassword = "InvalidPassword"
)

// Error is the one error type whose Reason is a Gemini reason. Message is
// what the client sees; Err, if set, is the cause for the operator's log and
// is never shown to clients.
type Error struct {
	Reason  string
	Message string
	Err     error
}

// Error implements error.
func (e *Error) Error() string {
	if e.Err != nil {
		return e.Reason + ": " + e.Message + ": " + e.Err.Error()
	}
	return e.Reason + ": " + e.Message
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given reason and a formatted message.
func Errorf(reason, format string, args ...any) *Error {
	return &Error{Reason: reason, Message: fmt.Sprintf(format, args...)}
}

// ErrorReason returns the Gemini reason of err, or System for errors that
// are not an *Error (and "" for nil).
func ErrorReason(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Reason
	}
	return System
}

// ErrorMessage returns the client-facing message of err. Errors that are not
// an *Error get a generic message: their text may hold internals.
func ErrorMessage(err error) string {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "We are investigating technical issues with the Gemini Exchange."
}
