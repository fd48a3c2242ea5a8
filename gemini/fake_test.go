package gemini_test

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha512"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/twinex/twinex/gemini"
)

const (
	testKey    = "account-pnBFSS0XKGvDamX4uEIt"
	testSecret = "29RaGpF1BNz1C21Qp3sM9L9jZniE"
)

// call is one request the fake server received.
type call struct {
	Method   string
	Path     string
	RawQuery string
	Header   http.Header
	Body     []byte
	// Payload is the decoded X-GEMINI-PAYLOAD of a private call, decoded with
	// UseNumber so that tests can tell a JSON string from a JSON number.
	Payload map[string]any
	// SigOK reports whether X-GEMINI-SIGNATURE verified with §1.3's algorithm.
	SigOK bool
}

// reply is a canned response.
type reply struct {
	status int
	body   string
}

// fakeGemini is an httptest server playing Gemini: it records every request,
// verifies signatures independently of the package's Sign, and answers with
// the reply registered for "METHOD /path" (404 EndpointNotFound otherwise).
type fakeGemini struct {
	t      *testing.T
	secret string
	srv    *httptest.Server

	mu      sync.Mutex
	calls   []call
	replies map[string]reply
}

func newFake(t *testing.T) *fakeGemini {
	t.Helper()
	f := &fakeGemini{t: t, secret: testSecret, replies: map[string]reply{}}
	f.srv = httptest.NewServer(http.HandlerFunc(f.serve))
	t.Cleanup(f.srv.Close)
	return f
}

// client returns a client of the fake server with the test credentials.
func (f *fakeGemini) client(opts ...gemini.Option) *gemini.Client {
	return gemini.New(f.srv.URL, testKey, testSecret, opts...)
}

// on registers the reply to "METHOD /path".
func (f *fakeGemini) on(methodPath string, status int, body string) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.replies[methodPath] = reply{status, body}
}

// Calls returns a copy of the recorded calls.
func (f *fakeGemini) Calls() []call {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]call(nil), f.calls...)
}

// last returns the most recent call.
func (f *fakeGemini) last(t *testing.T) call {
	t.Helper()
	cs := f.Calls()
	if len(cs) == 0 {
		t.Fatal("no request reached the server")
	}
	return cs[len(cs)-1]
}

func (f *fakeGemini) serve(w http.ResponseWriter, r *http.Request) {
	var body bytes.Buffer
	body.ReadFrom(r.Body)
	c := call{Method: r.Method, Path: r.URL.Path, RawQuery: r.URL.RawQuery, Header: r.Header.Clone(), Body: body.Bytes()}
	if p := r.Header.Get("X-GEMINI-PAYLOAD"); p != "" {
		m := hmac.New(sha512.New384, []byte(f.secret))
		m.Write([]byte(p))
		want := hex.EncodeToString(m.Sum(nil))
		c.SigOK = hmac.Equal([]byte(want), []byte(r.Header.Get("X-GEMINI-SIGNATURE")))
		raw, err := base64.StdEncoding.Strict().DecodeString(p)
		if err != nil {
			f.t.Errorf("%s: payload is not standard padded base64: %v", r.URL.Path, err)
		} else {
			dec := json.NewDecoder(bytes.NewReader(raw))
			dec.UseNumber()
			if err := dec.Decode(&c.Payload); err != nil {
				f.t.Errorf("%s: payload is not a JSON object: %v (%s)", r.URL.Path, err, raw)
			}
		}
	}
	f.mu.Lock()
	f.calls = append(f.calls, c)
	rep, ok := f.replies[r.Method+" "+r.URL.Path]
	f.mu.Unlock()
	w.Header().Set("Content-Type", "application/json")
	if !ok {
		w.WriteHeader(http.StatusNotFound)
		w.Write([]byte(`{"result":"error","reason":"EndpointNotFound","message":"API entry point not found"}`))
		return
	}
	if rep.status == 0 {
		rep.status = http.StatusOK
	}
	w.WriteHeader(rep.status)
	w.Write([]byte(rep.body))
}
