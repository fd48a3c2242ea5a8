package main

import (
	"bytes"
	"io"
	"net/http"
)

// captureTransport keeps the body of the last response, so that a command
// prints exactly what the server sent while package gemini (twinex api) or
// package admin (twinex admin) still decodes it and recognizes errors.
type captureTransport struct {
	base http.RoundTripper
	body []byte
}

func (t *captureTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	t.body = nil
	resp, err := t.base.RoundTrip(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return nil, err
	}
	t.body = b
	resp.Body = io.NopCloser(bytes.NewReader(b))
	return resp, nil
}
