package app

import (
	"bufio"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/metrics"
)

// withRequestID gives every request an id, sent in the X-Request-Id
// header, and logs each request answered with a 5xx once, with that id,
// its status and the cause the handler noted (twinex.NoteFailure). An
// operator can then find a user's failed request from the id they quote.
// With metrics on, it also counts the request (for a WebSocket, the
// upgrade; the connection's life is the feed's).
func (m *App) withRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ri := &twinex.RequestInfo{ID: m.requestID()}
		w.Header()["X-Request-Id"] = []string{ri.ID} // canonical already
		sw := &statusWriter{ResponseWriter: w}
		start := time.Now()
		next.ServeHTTP(sw, r.WithContext(twinex.WithRequestInfo(r.Context(), ri)))
		if mt := m.metrics; mt != nil {
			status := sw.status
			if status == 0 {
				status = http.StatusOK
			}
			mt.Request(metrics.Group(r.URL.Path, r.Header.Get("Upgrade") != ""), status, ri.Reason,
				r.Header.Get("X-GEMINI-APIKEY") != "", time.Since(start))
		}
		if sw.status >= 500 {
			args := []any{"request_id", ri.ID, "method", r.Method, "path", r.URL.Path, "status", sw.status}
			if ri.Cause != nil {
				args = append(args, "err", ri.Cause)
			}
			level := slog.LevelError // a failure of ours
			if sw.status != http.StatusInternalServerError {
				level = slog.LevelWarn // maintenance, injected faults, a store that stopped
			}
			m.Logger.Log(r.Context(), level, "request failed", args...)
		}
	})
}

// requestID returns a new request id: 24 hex digits, a random prefix of
// the process followed by a 64-bit counter, unique within the process and
// cheap (no system call per request).
func (m *App) requestID() string {
	m.reqOnce.Do(func() {
		var b [4]byte
		rand.Read(b[:])
		m.reqPrefix = binary.BigEndian.Uint32(b[:])
	})
	var b [12]byte
	binary.BigEndian.PutUint32(b[:4], m.reqPrefix)
	binary.BigEndian.PutUint64(b[4:], m.reqSeq.Add(1))
	return hex.EncodeToString(b[:])
}

// statusWriter records the status of a response. It keeps the writer's
// Flush and Hijack (WebSocket upgrades need it) and unwraps for
// http.ResponseController.
type statusWriter struct {
	http.ResponseWriter
	status int
}

func (w *statusWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return w.ResponseWriter.Write(b)
}

func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

func (w *statusWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	if h, ok := w.ResponseWriter.(http.Hijacker); ok {
		w.status = http.StatusSwitchingProtocols
		return h.Hijack()
	}
	return nil, nil, errors.New("hijacking is not supported")
}

func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
