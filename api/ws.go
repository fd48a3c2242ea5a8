package api

import (
	"cmp"
	"context"
	"errors"
	"net"
	"net/http"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/auth"
	"github.com/twinex/twinex/feed"
	"github.com/twinex/twinex/keys"
)

// The WebSocket feeds (reference gemini-websocket.md). Every connection has
// one reader goroutine (so pings get pongs, §2.2) and one writer goroutine,
// the only one that writes frames. The writer takes the connection's
// messages from its feed.Sub queue, renders them with the connection's
// protocol, and sends heartbeats.
//
// Library: gorilla/websocket. It is the most used Go WebSocket package,
// maintained again since 2023, has no dependencies and no cgo, lets the
// server answer pings from its read loop exactly as the reference
// describes, and clears the net/http deadlines on upgrade.

// Connection defaults. Gemini documents no limits for the legacy sockets
// (reference §2.6); these are Twinex's, written in the README.
const (
	// DefaultWSPerIP is how many WebSocket connections one address may
	// hold open.
	DefaultWSPerIP = 100
	// DefaultWSPerKey is how many order-event connections one API key may
	// hold open.
	DefaultWSPerKey = 20
	// DefaultWSQueue is how many messages a connection may have waiting
	// before it is closed as a slow reader.
	DefaultWSQueue = 4096
	// DefaultWSHeartbeat is the heartbeat period of every feed (§4.2, §6.6,
	// §7.4).
	DefaultWSHeartbeat = 5 * time.Second
	// wsWriteWait bounds one frame's write.
	wsWriteWait = 10 * time.Second
	// wsKeyCheck is how often an order-event connection re-checks its key,
	// so that revocation, expiry, the end of a rotation's grace and an
	// allowlist edit close it within a second.
	wsKeyCheck = 250 * time.Millisecond
	// wsReadLimit bounds one client message.
	wsReadLimit = 64 << 10
	// wsPing is how often the server pings; a connection that answers
	// nothing (no pong, no message) for wsDead is closed, so half-open
	// connections of vanished clients do not linger. Gemini's legacy
	// sockets send no pings, but every RFC 6455 client answers them.
	wsPing = 30 * time.Second
	wsDead = 75 * time.Second
	// wsMessagesPerSec bounds what a client may send (subscriptions,
	// mostly): ccxt sends at most about 10 a second (reference §2.6).
	wsMessagesPerSec = 50
)

// Close codes (RFC 6455 §7.4.1).
const (
	closeNormal    = websocket.CloseNormalClosure
	closeGoingAway = websocket.CloseGoingAway
	closePolicy    = websocket.ClosePolicyViolation
	closeTooBig    = websocket.CloseMessageTooBig
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  4096,
	WriteBufferSize: 16 << 10,
	// Market data is public and the order-event socket is authenticated by
	// headers that a browser cannot add, so no origin needs refusing.
	CheckOrigin: func(*http.Request) bool { return true },
}

// wsProto is one feed's wire format.
type wsProto interface {
	// render appends the frames for m (none when the connection does not
	// want it).
	render(c *wsConn, m *feed.Msg, out [][]byte) [][]byte
	// heartbeat returns the heartbeat frame, nil when there is none.
	heartbeat(c *wsConn, now time.Time) []byte
	// onMessage handles a client message; it runs on the read goroutine.
	onMessage(c *wsConn, data []byte)
}

// wsConn is one open WebSocket connection.
type wsConn struct {
	s     *Server
	ws    *websocket.Conn
	sub   *feed.Sub
	proto wsProto
	path  string
	ip    netip.Addr
	start time.Time

	// order events only
	key     twinex.APIKey
	entry   *keys.Entry
	b64     string
	sig     string
	account int64

	release  func()
	cork     *corkConn
	ctrl     chan []byte  // in-band replies from the read loop
	closing  chan wsClose // a close requested by the read loop
	readDone chan struct{}
	// kick wakes the writer for anything but its queue and its timers: a
	// reply or a close request queued, the key gone, the subscriber
	// dropped, the read loop ended. One channel, so that the writer's
	// wait, done once per write, selects over four cases and not eight.
	kick    chan struct{}
	readWhy string        // why the read loop ended, when not the client's close; set before readDone closes
	keyGone chan struct{} // closed when the key may no longer be used (order events)
	keyWhy  atomic.Pointer[string]
	sent    atomic.Int64 // frames written
	seq     int64        // socket_sequence of the next counted frame (writer only)
}

type wsClose struct {
	code int
	why  string
}

// wsRoutes registers the feeds.
func (s *Server) routeWS() {
	for _, p := range []string{"/v1/marketdata/{symbol}", "/v1/multimarketdata", "/v2/marketdata", "/v1/order/events"} {
		var h http.HandlerFunc
		switch {
		case strings.HasPrefix(p, "/v1/marketdata/"):
			h = s.wsMarketV1
		case p == "/v1/multimarketdata":
			h = s.wsMultiMarket
		case p == "/v2/marketdata":
			h = s.wsMarketV2
		default:
			h = s.wsOrderEvents
		}
		s.mux.HandleFunc("GET "+p, h)
		s.mux.HandleFunc("GET "+p+"/", h) // cryptofeed adds a slash (§2.1)
	}
}

// isWebSocket reports whether r asks for a WebSocket upgrade.
func isWebSocket(r *http.Request) bool { return websocket.IsWebSocketUpgrade(r) }

// wsRefuse answers an upgrade that cannot go ahead with Gemini's error
// object and the REST status (reference §2.5).
func (s *Server) wsRefuse(w http.ResponseWriter, r *http.Request, err error) {
	s.Logger.Info("websocket upgrade refused", "path", r.URL.Path, "ip", auth.ClientIP(r, s.TrustedProxies).String(), "reason", twinex.ErrorReason(err))
	s.writeError(w, r, err)
}

// wsAdmit counts a new connection against the per-address and per-key
// limits, or returns RateLimit. release undoes it.
func (s *Server) wsAdmit(ip netip.Addr, key string) (release func(), err error) {
	perIP, perKey := s.WSPerIP, s.WSPerKey
	if perIP <= 0 {
		perIP = DefaultWSPerIP
	}
	if perKey <= 0 {
		perKey = DefaultWSPerKey
	}
	ipKey := limitKey(ip)
	s.wsMu.Lock()
	defer s.wsMu.Unlock()
	if s.wsByIP == nil {
		s.wsByIP, s.wsByKey = map[string]int{}, map[string]int{}
	}
	if s.wsByIP[ipKey] >= perIP {
		return nil, twinex.Errorf(twinex.RateLimit, "Too many WebSocket connections from %s (at most %d)", ip, perIP)
	}
	if key != "" && s.wsByKey[key] >= perKey {
		return nil, twinex.Errorf(twinex.RateLimit, "Too many WebSocket connections for API key %s (at most %d)", key, perKey)
	}
	s.wsByIP[ipKey]++
	if key != "" {
		s.wsByKey[key]++
	}
	var once sync.Once
	return func() {
		once.Do(func() {
			s.wsMu.Lock()
			defer s.wsMu.Unlock()
			if s.wsByIP[ipKey]--; s.wsByIP[ipKey] <= 0 {
				delete(s.wsByIP, ipKey)
			}
			if key != "" {
				if s.wsByKey[key]--; s.wsByKey[key] <= 0 {
					delete(s.wsByKey, key)
				}
			}
		})
	}, nil
}

// wsOpenPublic admits and upgrades a socket of the public feeds (no API
// key), as wsOpen; a refusal has been answered when it returns false.
func (s *Server) wsOpenPublic(w http.ResponseWriter, r *http.Request) (*wsConn, bool) {
	release, err := s.wsAdmit(auth.ClientIP(r, s.TrustedProxies), "")
	if err != nil {
		s.wsRefuse(w, r, err)
		return nil, false
	}
	return s.wsOpen(w, r, "", release)
}

// wsOpen upgrades the request and returns the connection, not yet
// running. release is called when the connection ends. On failure the
// answer has been written.
func (s *Server) wsOpen(w http.ResponseWriter, r *http.Request, key string, release func()) (*wsConn, bool) {
	if s.Feed == nil {
		release()
		s.wsRefuse(w, r, twinex.Errorf(twinex.EndpointNotFound, "API entry point `%s` not found", r.URL.Path))
		return nil, false
	}
	hj := &corkHijacker{ResponseWriter: w}
	ws, err := upgrader.Upgrade(hj, r, nil)
	if err != nil {
		release() // the upgrader answered 400
		return nil, false
	}
	ws.SetReadLimit(wsReadLimit)
	c := &wsConn{s: s, ws: ws, sub: feed.NewSub(cmp.Or(s.WSQueue, DefaultWSQueue), key), path: r.URL.Path, ip: auth.ClientIP(r, s.TrustedProxies),
		start: s.now(), ctrl: make(chan []byte, 16), closing: make(chan wsClose, 1), readDone: make(chan struct{}), kick: make(chan struct{}, 1)}
	c.release, c.cork = release, hj.conn
	c.sub.NotifyOnStop(c.kick)
	return c, true
}

// run starts the connection's reader and writer. The handler may return
// at once: the connection is hijacked and lives on in the goroutines.
func (c *wsConn) run(p wsProto) {
	c.proto = p
	c.keyGone = make(chan struct{})
	c.s.wsLive.Add(1)
	go c.read()
	if c.entry != nil {
		go c.watchKey()
	}
	go c.write()
}

// watchKey re-checks an order-event connection's key every wsKeyCheck on a
// goroutine of its own, so that a revoked (or expired, or rotated-out) key
// loses its socket within a second even while the writer is held by a
// frame-delay fault or blocked on a client that stopped reading: it asks
// the writer to close and, if the writer has not closed by the next check,
// cuts the connection's pending write short.
func (c *wsConn) watchKey() {
	t := time.NewTicker(wsKeyCheck)
	defer t.Stop()
	for {
		select {
		case <-c.readDone: // the connection is closed
			return
		case <-t.C:
		}
		why := c.keyProblem()
		if why == "" {
			continue
		}
		c.keyWhy.Store(&why)
		close(c.keyGone)
		c.notify()
		select {
		case <-c.readDone:
		case <-time.After(wsKeyCheck):
			_ = c.ws.NetConn().SetWriteDeadline(time.Now()) // a write blocked on a silent client fails now
		}
		return
	}
}

func (c *wsConn) read() {
	defer c.notify()
	defer close(c.readDone)
	alive := func(string) error { return c.ws.SetReadDeadline(time.Now().Add(wsDead)) }
	alive("")
	c.ws.SetPongHandler(alive)
	var window time.Time
	n := 0
	for {
		_, data, err := c.ws.ReadMessage()
		if err != nil {
			var ne net.Error
			switch {
			case errors.Is(err, websocket.ErrReadLimit):
				c.readWhy = "message too big"
			case errors.As(err, &ne) && ne.Timeout():
				c.readWhy = "no answer to pings"
			}
			return
		}
		alive("")
		if now := time.Now(); now.Sub(window) >= time.Second {
			window, n = now, 0
		}
		if n++; n > wsMessagesPerSec {
			c.requestClose(closePolicy, "too many messages: at most "+strconv.Itoa(wsMessagesPerSec)+" a second")
			continue
		}
		c.proto.onMessage(c, data)
	}
}

// reply queues an in-band frame from the read loop; a client that floods
// the server with bad messages is closed.
func (c *wsConn) reply(b []byte) {
	select {
	case c.ctrl <- b:
		c.notify()
	default:
		c.requestClose(closePolicy, "too many requests")
	}
}

// requestClose asks the writer to close the connection.
func (c *wsConn) requestClose(code int, why string) {
	select {
	case c.closing <- wsClose{code, why}:
	default:
	}
	c.notify()
}

// notify wakes the writer to look at everything but its queue.
func (c *wsConn) notify() {
	select {
	case c.kick <- struct{}{}:
	default:
	}
}

func (c *wsConn) write() { // long: one select over everything a connection's writer waits for, each case a line or two
	hb := time.NewTicker(cmp.Or(c.s.WSHeartbeat, DefaultWSHeartbeat))
	defer hb.Stop()
	ping := time.NewTicker(wsPing)
	defer ping.Stop()
	var frames [][]byte
	end := wsClose{closeNormal, "client closed the connection"}
	if o, ok := c.proto.(interface{ opening(*wsConn) [][]byte }); ok {
		if !c.send(o.opening(c)...) {
			c.finish(wsClose{closeGoingAway, "write failed"})
			return
		}
	}
loop:
	for {
		select {
		case item := <-c.sub.Q:
			// Everything already queued goes out in one write.
			c.cork.set(true)
			// Each item is rendered on its own: items are the hub's passes,
			// the same for every subscriber of a market, so the v2 feed's
			// merged frames are rendered once and shared.
			n := len(item.Msgs)
			frames = c.renderAll(item.Msgs, frames[:0])
		drain:
			for n < 1024 {
				select {
				case item := <-c.sub.Q:
					n += len(item.Msgs)
					frames = c.renderAll(item.Msgs, frames)
				default:
					break drain
				}
			}
			ok := c.send(frames...)
			c.sub.Taken(n)
			if err := c.cork.set(false); err != nil || !ok {
				end = wsClose{closeGoingAway, "write failed"}
				break loop
			}
		case <-c.kick:
			var stop bool
			if end, stop = c.kicked(); stop {
				break loop
			}
		case now := <-hb.C:
			if c.s.wsHeartbeatsStopped(c) {
				continue
			}
			if b := c.proto.heartbeat(c, now); b != nil && !c.send(b) {
				end = wsClose{closeGoingAway, "write failed"}
				break loop
			}
		case <-ping.C:
			if err := c.ws.WriteControl(websocket.PingMessage, nil, time.Now().Add(wsWriteWait)); err != nil {
				end = wsClose{closeGoingAway, "write failed"}
				break loop
			}
		}
	}
	c.finish(end)
}

// kicked handles what notify woke the writer for: it sends the replies
// queued, then reports whether the connection must close, and how.
func (c *wsConn) kicked() (wsClose, bool) {
	// The replies queued now, no more: a client that keeps queueing them
	// must not keep the checks below from running.
	for n := len(c.ctrl); n > 0; n-- {
		if !c.send(<-c.ctrl) {
			return wsClose{closeGoingAway, "write failed"}, true
		}
	}
	if len(c.ctrl) > 0 {
		c.notify() // the rest on the next turn
	}
	select {
	case end := <-c.closing:
		return end, true
	case <-c.keyGone:
		return wsClose{closePolicy, *c.keyWhy.Load()}, true
	case <-c.sub.Done():
		end := wsClose{closeGoingAway, c.sub.Why()}
		if strings.HasPrefix(end.why, "slow reader") {
			end.code = closePolicy
		}
		return end, true
	case <-c.readDone:
		end := wsClose{closeNormal, "client closed the connection"}
		if c.readWhy != "" {
			end = wsClose{closeGoingAway, c.readWhy}
			if c.readWhy == "message too big" {
				end.code = closeTooBig
			}
		}
		return end, true
	default:
		return wsClose{}, false
	}
}

// runRenderer is a wsProto that renders several queued messages at once
// (the v2 feed merges consecutive book updates into one frame).
type runRenderer interface {
	renderRun(c *wsConn, ms []*feed.Msg, out [][]byte) [][]byte
}

// renderAll appends the frames of the messages, in order.
func (c *wsConn) renderAll(ms []*feed.Msg, out [][]byte) [][]byte {
	if r, ok := c.proto.(runRenderer); ok {
		return r.renderRun(c, ms, out)
	}
	for _, m := range ms {
		out = c.proto.render(c, m, out)
	}
	return out
}

// send writes frames, applying any frame delay a sandbox fault asks for
// (cut short when the key goes).
func (c *wsConn) send(frames ...[]byte) bool {
	if d := c.s.wsFrameDelay(c); d > 0 {
		select {
		case <-time.After(d):
		case <-c.keyGone:
			return false
		}
	}
	for _, f := range frames {
		select {
		case <-c.keyGone:
			return false // the key went: nothing more for this socket
		default:
		}
		_ = c.ws.SetWriteDeadline(time.Now().Add(wsWriteWait))
		if err := c.ws.WriteMessage(websocket.TextMessage, f); err != nil {
			return false
		}
		c.sent.Add(1)
	}
	return true
}

// finish closes the connection with a close frame saying why, unsubscribes
// it, and logs and records the close.
func (c *wsConn) finish(end wsClose) {
	if why := c.keyWhy.Load(); why != nil {
		end = wsClose{closePolicy, *why} // whatever the writer was doing when the key went
	}
	if why := c.sub.Why(); strings.HasPrefix(why, "slow reader") {
		end = wsClose{closePolicy, why} // the write that failed was the symptom
	}
	c.s.Feed.Remove(c.sub, end.why)
	why := end.why
	if len(why) > 120 { // a close frame's reason is at most 123 bytes
		why = why[:120]
	}
	_ = c.ws.WriteControl(websocket.CloseMessage, websocket.FormatCloseMessage(end.code, why), time.Now().Add(time.Second))
	_ = c.ws.Close()
	c.release()
	d := c.s.now().Sub(c.start)
	c.s.Logger.Info("websocket closed", "path", c.path, "ip", c.ip.String(), "key", c.key.ID, "code", end.code, "why", end.why,
		"duration", d.Round(time.Millisecond), "messages", c.sent.Load())
	c.s.recordWS(c, "CLOSE", end.why, d)
	c.s.wsLive.Done()
}

// DrainWebSockets waits until every WebSocket connection has closed (after
// Feed.Close asked them to), so that their close records reach the
// activity log before it stops; it gives up when ctx ends.
func (s *Server) DrainWebSockets(ctx context.Context) {
	done := make(chan struct{})
	go func() {
		s.wsLive.Wait()
		close(done)
	}()
	select {
	case <-done:
	case <-ctx.Done():
	}
}

// keyProblem re-checks an order-event connection's key as a new upgrade
// would: still active (not revoked, not expired), the signature still
// valid (a rotation's grace not over), the address still allowed, a role
// that may read order events still held.
func (c *wsConn) keyProblem() string {
	now := c.s.now()
	k := c.entry.Key()
	switch {
	case k.Revoked != 0:
		return "API key revoked"
	case !k.Active(now.UnixNano()):
		return "API key expired"
	case !c.entry.Verify(c.b64, c.sig, now):
		return "API key secret rotated; the grace period is over"
	case !c.entry.Allows(c.ip):
		return "address no longer in the API key's allowlist"
	case !k.Roles.HasAny(twinex.RoleTrader | twinex.RoleAuditor):
		return "API key no longer has the Trader or Auditor role"
	}
	return ""
}

// recordWS writes an activity record for an order-event upgrade or close
// (market data sockets name no key). An upgrade is method GET with the
// outcome of its checks; a close is method CLOSE with why it closed as the
// reason, its duration as the latency and its message count in the path
// ("/v1/order/events#messages=N"), since the log has no column of its own
// for it.
func (s *Server) recordWS(c *wsConn, method, why string, d time.Duration) {
	if s.Activity == nil || c.key.ID == "" {
		return
	}
	a := twinex.Activity{Time: s.now().UnixNano(), KeyID: c.key.ID, UserID: c.key.UserID, AccountID: c.account,
		IP: c.ip.String(), Method: method, Path: c.path, Status: http.StatusSwitchingProtocols, Latency: d.Microseconds(), Authenticated: true}
	if method == "CLOSE" {
		a.Path = truncate(c.path+"#messages="+strconv.FormatInt(c.sent.Load(), 10), 200)
		a.Reason = truncate(why, 200)
		// Not a request: alerts must not count it towards a spike.
		a.Authenticated = false
	}
	s.Activity.Record(a)
}

// wsHeartbeatsStopped and wsFrameDelay apply the sandbox's socket faults
// (fault.Rule's FrameDelay and StopHeartbeats) to a connection.
func (s *Server) wsHeartbeatsStopped(c *wsConn) bool {
	return s.Faults != nil && s.Faults.Socket(c.key.ID).StopHeartbeats
}

func (s *Server) wsFrameDelay(c *wsConn) time.Duration {
	if s.Faults == nil {
		return 0
	}
	return s.Faults.Socket(c.key.ID).FrameDelay
}
