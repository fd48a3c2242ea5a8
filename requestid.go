package twinex

import "context"

// RequestInfo is what the server knows of one request for its log: the id
// sent back in the X-Request-Id header, and why it failed, when it did.
type RequestInfo struct {
	ID     string
	Reason string // the Gemini reason of an error answer, set by the API
	Cause  error  // set by the handler that answered 5xx
}

type requestInfoKey struct{}

// WithRequestInfo returns ctx carrying ri.
func WithRequestInfo(ctx context.Context, ri *RequestInfo) context.Context {
	return context.WithValue(ctx, requestInfoKey{}, ri)
}

// RequestInfoOf returns the request's info, or nil outside a server that
// set one.
func RequestInfoOf(ctx context.Context) *RequestInfo {
	ri, _ := ctx.Value(requestInfoKey{}).(*RequestInfo)
	return ri
}

// NoteFailure records why a request answered 5xx, for the one log line the
// server writes about it. It reports false when the request carries no
// info (the caller then logs the failure itself).
func NoteFailure(ctx context.Context, err error) bool {
	ri := RequestInfoOf(ctx)
	if ri == nil {
		return false
	}
	ri.Cause = err
	return true
}
