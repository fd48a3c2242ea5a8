package api

import (
	"net/http"

	"github.com/twinex/twinex"
)

// HTTPStatus maps a Gemini reason to its HTTP status (reference §1.9):
// 400 unless listed here. It is the one table of that mapping.
func HTTPStatus(reason string) int {
	switch reason {
	case "":
		return http.StatusOK
	case twinex.MissingApikeyHeader:
		// Gemini's spec answers a missing key header with 401 (its
		// Unauthorized response); its older error table says 400. ccxt
		// maps the reason either way (README, decisions).
		return http.StatusUnauthorized
	case twinex.MissingRole, twinex.RemoteAddressForbidden:
		return http.StatusForbidden
	case twinex.EndpointNotFound, twinex.OrderNotFound, twinex.UnsupportedNetwork:
		return http.StatusNotFound
	case twinex.InsufficientFunds:
		return http.StatusNotAcceptable
	case twinex.RateLimit:
		return http.StatusTooManyRequests
	case twinex.Maintenance:
		return http.StatusServiceUnavailable
	case twinex.System:
		return http.StatusInternalServerError
	}
	return http.StatusBadRequest
}
