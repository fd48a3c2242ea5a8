package watch

// The rules' checks on each record: a new address, refused signatures, and
// a spike in requests.

import (
	"context"
	"fmt"
	"net/netip"
	"time"

	"github.com/twinex/twinex"
)

// checkIP raises new_ip when an authenticated request comes from an address
// the key never used before. A key's very first address raises nothing:
// there is no "before" yet, and its owner just made the key.
func (w *Watcher) checkIP(ctx context.Context, a twinex.Activity) {
	if a.IP == "" {
		return
	}
	where := network(a.IP)
	w.mu.Lock()
	known := w.ips[a.KeyID][where]
	w.mu.Unlock()
	if known {
		return
	}
	isNew, before, err := w.Store.NoteKeyIP(ctx, a.KeyID, where, a.Time)
	if err != nil {
		w.log().Error("watch: note key address", "key", a.KeyID, "err", err)
		return
	}
	w.mu.Lock()
	if w.nips >= maxKnownIPs {
		w.ips, w.nips = map[string]map[string]bool{}, 0
	}
	if w.ips[a.KeyID] == nil {
		w.ips[a.KeyID] = map[string]bool{}
	}
	w.ips[a.KeyID][where] = true
	w.nips++
	w.mu.Unlock()
	if isNew && before {
		w.raise(ctx, twinex.Alert{UserID: a.UserID, KeyID: a.KeyID, Kind: twinex.AlertNewIP, IP: a.IP,
			Dedupe:  fmt.Sprintf("new_ip:%s:%s", a.KeyID, where),
			Message: fmt.Sprintf("API key %s was used from %s, an address it had never been used from before.", a.KeyID, a.IP)})
	}
}

// network is where an address is, for the new-address and allowlist
// rules: an IPv4 address itself, an IPv6 address's /64 (one host holds a
// whole /64 and could rotate through it, an alert per address).
func network(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil || !a.Is6() || a.Is4In6() {
		return ip
	}
	p, _ := a.Prefix(64)
	return p.String()
}

// checkBadSig raises bad_sig when a key gets BadSigCount InvalidSignature
// refusals within BadSigWindow: someone has the key id without the secret.
func (w *Watcher) checkBadSig(ctx context.Context, a twinex.Activity) {
	w.mu.Lock()
	times := append(w.badSig[a.KeyID], a.Time)
	cut := a.Time - int64(w.rules.BadSigWindow)
	i := 0
	for i < len(times) && times[i] <= cut {
		i++
	}
	times = times[i:]
	if len(times) > w.rules.BadSigCount {
		// Only the latest BadSigCount matter: a flood must not grow this.
		times = append(times[:0], times[len(times)-w.rules.BadSigCount:]...)
	}
	w.badSig[a.KeyID] = times
	n := len(times)
	w.mu.Unlock()
	if n >= w.rules.BadSigCount {
		w.raise(ctx, twinex.Alert{UserID: a.UserID, KeyID: a.KeyID, Kind: twinex.AlertBadSig, IP: a.IP,
			Dedupe: fmt.Sprintf("bad_sig:%s:%s", a.KeyID, day(a.Time)),
			Message: fmt.Sprintf("API key %s got %d requests with a wrong signature within %s (the latest from %s): someone may have the key id without its secret.",
				a.KeyID, n, durationText(w.rules.BadSigWindow), a.IP)})
	}
}

// count adds a record to its key's per-minute window.
func (w *Watcher) count(a twinex.Activity) {
	m := a.Time / int64(time.Minute)
	keep := int64(w.rules.SpikeWindow / time.Minute)
	w.mu.Lock()
	defer w.mu.Unlock()
	win := w.recent[a.KeyID]
	if win == nil {
		win = &window{}
		w.recent[a.KeyID] = win
	}
	if n := len(win.minutes); n > 0 && win.minutes[n-1] == m {
		win.counts[n-1]++
	} else if n == 0 || m > win.minutes[n-1] {
		win.minutes, win.counts = append(win.minutes, m), append(win.counts, 1)
	} else {
		for i := range win.minutes { // a late record of an earlier minute
			if win.minutes[i] == m {
				win.counts[i]++
			}
		}
	}
	last := win.minutes[len(win.minutes)-1]
	i := 0
	for i < len(win.minutes) && win.minutes[i] <= last-keep {
		i++
	}
	win.minutes, win.counts = win.minutes[i:], win.counts[i:]
}

// checkSpike raises spike when the key's authenticated requests in the
// SpikeWindow ending with its latest record are at least SpikeFloor and
// more than SpikeFactor times the average for such a window over the
// trailing BaselineWindow (of requests counted against the quota).
func (w *Watcher) checkSpike(ctx context.Context, keyID string, a twinex.Activity) {
	w.mu.Lock()
	win := w.recent[keyID]
	var n int64
	for _, c := range win.counts {
		n += c
	}
	w.mu.Unlock()
	if n < w.rules.SpikeFloor {
		return
	}
	last := a.Time / int64(time.Minute)
	span := int64(w.rules.SpikeWindow / time.Minute)
	start := last - span + 1 // the window's first minute
	base := int64(w.rules.BaselineWindow / time.Minute)
	w.mu.Lock()
	b, ok := w.baselines[keyID]
	w.mu.Unlock()
	if !ok || b.start != start {
		points, err := w.Store.Usage(ctx, keyID, start-base, start)
		if err != nil {
			w.log().Error("watch: usage baseline", "key", keyID, "err", err)
			return
		}
		b = baseline{start: start}
		for _, p := range points {
			b.total += p.Counted
		}
		w.mu.Lock()
		w.baselines[keyID] = b
		w.mu.Unlock()
	}
	total := b.total
	// n > factor × total×span/base, in integers.
	if n*base <= w.rules.SpikeFactor*total*span {
		return
	}
	avg := float64(total) * float64(span) / float64(base)
	w.raise(ctx, twinex.Alert{UserID: a.UserID, KeyID: keyID, Kind: twinex.AlertSpike, IP: a.IP,
		Dedupe: fmt.Sprintf("spike:%s:%s", keyID, time.Unix(0, a.Time).UTC().Format("2006-01-02T15")),
		Message: fmt.Sprintf("API key %s made %d signed requests in %s, against an average of %.1f over the previous %s.",
			keyID, n, durationText(w.rules.SpikeWindow), avg, durationText(w.rules.BaselineWindow))})
}
