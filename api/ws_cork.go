package api

import (
	"bufio"
	"errors"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"time"
)

// corkHijacker hands gorilla/websocket a connection whose writes can be
// held and sent together: a writer that finds several messages queued
// sends them in one system call instead of one each (the fan-out's main
// cost under load).
type corkHijacker struct {
	http.ResponseWriter
	conn *corkConn
}

func (h *corkHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := h.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("websocket: the response writer cannot be hijacked")
	}
	nc, brw, err := hj.Hijack()
	if err != nil {
		return nil, nil, err
	}
	h.conn = &corkConn{Conn: nc}
	return h.conn, brw, nil
}

// corkConn buffers writes while corked. It is safe for concurrent use
// (gorilla writes pongs from the read goroutine). While corked it keeps
// the write deadline that gorilla sets before each frame instead of
// setting it on the socket (a timer update per frame), and sets the last
// one once, before the write that sends them all.
type corkConn struct {
	net.Conn
	mu       sync.Mutex
	corked   atomic.Bool // changed under mu
	buf      []byte
	deadline atomic.Int64 // Unix ns of the kept deadline; 0 for none
}

// SetWriteDeadline sets the socket's write deadline at once when the
// connection is not corked (a cut of a blocked write takes effect), and
// keeps it for the next write otherwise.
func (c *corkConn) SetWriteDeadline(t time.Time) error {
	if c.corked.Load() && !t.IsZero() {
		c.deadline.Store(t.UnixNano())
		return nil
	}
	return c.Conn.SetWriteDeadline(t)
}

func (c *corkConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked.Load() {
		return c.Conn.Write(p)
	}
	c.buf = append(c.buf, p...)
	if len(c.buf) >= 256<<10 {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// set corks or uncorks the connection; uncorking writes what was held.
func (c *corkConn) set(corked bool) error {
	if c == nil {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	c.corked.Store(corked)
	if !corked {
		return c.flushLocked()
	}
	return nil
}

func (c *corkConn) flushLocked() error {
	if len(c.buf) == 0 {
		c.deadline.Store(0) // no frame waits for it
		return nil
	}
	if t := c.deadline.Swap(0); t != 0 {
		if err := c.Conn.SetWriteDeadline(time.Unix(0, t)); err != nil {
			return err
		}
	}
	_, err := c.Conn.Write(c.buf)
	c.buf = c.buf[:0]
	return err
}
