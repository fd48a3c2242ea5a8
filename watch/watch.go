// Package watch raises alerts about API keys: a key used from an address it
// never used before, requests refused by a key's allowlist, a spike in a
// key's request rate, repeated bad signatures (someone holding the key id
// without the secret), a key about to expire or unused for long, a key
// near its daily quota, and a secret reported public (the key is revoked
// at once).
//
// Alerts are stored once per occurrence (twinex.Alert.Dedupe), shown on the
// dashboard and emailed. The request-driven rules run on the activity log's
// batches, off the request path (activity.Recorder.OnWrite); the time-driven
// ones in Sweep. Windows are measured in the records' own times, so tests
// drive every rule with made-up times and an injected clock.
package watch

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/keys"
	"github.com/twinex/twinex/mail"
	"github.com/twinex/twinex/quota"
)

// Rules are the thresholds of the alert rules; zero fields take the
// defaults in DefaultRules.
type Rules struct {
	BadSigCount    int           // InvalidSignature refusals of one key ...
	BadSigWindow   time.Duration // ... within this long raise bad_sig
	SpikeWindow    time.Duration // the window whose rate is compared
	SpikeFactor    int64         // how many times the baseline rate counts as a spike
	SpikeFloor     int64         // requests in SpikeWindow below which nothing is a spike
	BaselineWindow time.Duration // the trailing period the baseline is averaged over
	ExpiringWithin time.Duration // warn this long before a key expires
	UnusedFor      time.Duration // warn when a key has not been used for this long
	SweepEvery     time.Duration // how often Run runs Sweep
}

// DefaultRules are the thresholds Twinex uses.
var DefaultRules = Rules{
	BadSigCount:    5,
	BadSigWindow:   10 * time.Minute,
	SpikeWindow:    5 * time.Minute,
	SpikeFactor:    10,
	SpikeFloor:     300,
	BaselineWindow: 24 * time.Hour,
	ExpiringWithin: 7 * 24 * time.Hour,
	UnusedFor:      90 * 24 * time.Hour,
	SweepEvery:     time.Hour,
}

func (r Rules) withDefaults() Rules {
	d := DefaultRules
	if r.BadSigCount > 0 {
		d.BadSigCount = r.BadSigCount
	}
	if r.BadSigWindow > 0 {
		d.BadSigWindow = r.BadSigWindow
	}
	if r.SpikeWindow >= time.Minute {
		d.SpikeWindow = r.SpikeWindow
	}
	if r.SpikeFactor > 0 {
		d.SpikeFactor = r.SpikeFactor
	}
	if r.SpikeFloor > 0 {
		d.SpikeFloor = r.SpikeFloor
	}
	if r.BaselineWindow > 0 {
		d.BaselineWindow = r.BaselineWindow
	}
	if r.ExpiringWithin > 0 {
		d.ExpiringWithin = r.ExpiringWithin
	}
	if r.UnusedFor > 0 {
		d.UnusedFor = r.UnusedFor
	}
	if r.SweepEvery > 0 {
		d.SweepEvery = r.SweepEvery
	}
	return d
}

// Watcher evaluates the rules and raises alerts. Store and Accounts are
// required; Keys for ReportSecret.
type Watcher struct {
	Store    twinex.WatchStore
	Accounts twinex.AccountStore
	Keys     *keys.Service
	Mail     mail.Sender // nil: alerts are stored and shown, not emailed
	// BaseURL is the dashboard's public address, for links in mail.
	BaseURL string
	Rules   Rules
	Now     func() time.Time // default time.Now
	Logger  *slog.Logger     // default: discard
	// OnRaise, when set, is told the kind of each alert raised (for
	// metrics).
	OnRaise func(kind string)

	once   sync.Once
	rules  Rules
	outbox chan twinex.Alert

	mu        sync.Mutex
	ips       map[string]map[string]bool // key -> addresses known to be seen
	nips      int                        // entries in ips
	badSig    map[string][]int64         // key -> times of recent InvalidSignature
	recent    map[string]*window         // key -> requests in the last minutes
	baselines map[string]baseline        // key -> its last baseline
	mailDay   string                     // the UTC day mailed counts
	mailed    map[string]int             // key:day -> alert mails sent
	raised    map[string]bool            // user:dedupe of alerts known to be stored
}

// MailsPerKeyDay bounds the alert mails about one key per UTC day.
const MailsPerKeyDay = 10

// Retention is how long a dismissed alert, and the addresses of a revoked
// key, are kept.
const Retention = 180 * 24 * time.Hour

// baseline is a key's requests in the BaselineWindow before a spike
// window's first minute, kept while that minute stays the same (a busy key
// is checked every batch).
type baseline struct{ start, total int64 }

// maxKnownIPs bounds the cache of (key, address) pairs already seen, and
// that of alerts already stored; past it a cache starts over and the store
// answers again.
const maxKnownIPs = 100_000

// window counts a key's requests per minute over the last few minutes.
type window struct {
	minutes []int64 // Unix minutes, oldest first
	counts  []int64
}

func (w *Watcher) init() {
	w.once.Do(func() {
		w.rules = w.Rules.withDefaults()
		w.outbox = make(chan twinex.Alert, 1024)
		w.ips = map[string]map[string]bool{}
		w.badSig = map[string][]int64{}
		w.recent = map[string]*window{}
		w.baselines = map[string]baseline{}
	})
}

func (w *Watcher) now() time.Time {
	if w.Now != nil {
		return w.Now()
	}
	return time.Now()
}

func (w *Watcher) log() *slog.Logger {
	if w.Logger != nil {
		return w.Logger
	}
	return slog.New(slog.DiscardHandler)
}

// Observe applies the request-driven rules to records just written to the
// activity log (the usage rollup includes them). Records of unknown keys
// are the operator's business, not a user's, and are skipped.
func (w *Watcher) Observe(ctx context.Context, records []twinex.Activity) {
	w.init()
	touched := map[string]twinex.Activity{} // key -> its latest record here
	for _, a := range records {
		if a.UserID == 0 {
			continue
		}
		if a.Authenticated {
			// Spikes are of signed requests: anyone can send refused
			// ones with just a key id (that is the bad_sig rule).
			if last, ok := touched[a.KeyID]; !ok || a.Time >= last.Time {
				touched[a.KeyID] = a
			}
			w.count(a)
		}
		switch {
		case a.Authenticated:
			w.checkIP(ctx, a)
		case a.Reason == twinex.RemoteAddressForbidden:
			w.raise(ctx, twinex.Alert{UserID: a.UserID, KeyID: a.KeyID, Kind: twinex.AlertAllowlist, IP: a.IP,
				Dedupe:  fmt.Sprintf("allowlist:%s:%s:%s", a.KeyID, network(a.IP), day(a.Time)),
				Message: fmt.Sprintf("API key %s was used from %s, which its IP allowlist does not admit; the request was refused.", a.KeyID, a.IP)})
		case a.Reason == twinex.InvalidSignature && w.liveAt(ctx, a.KeyID, a.Time):
			// A revoked or expired key fails as InvalidSignature even with
			// the right secret: its leftover clients are not an attack.
			w.checkBadSig(ctx, a)
		}
	}
	for id, a := range touched {
		if w.liveAt(ctx, id, a.Time) {
			w.checkSpike(ctx, id, a)
		}
	}
}

// liveAt reports whether a key was neither revoked nor expired at t (Unix
// ns). Keys are read from the key service's cache.
func (w *Watcher) liveAt(ctx context.Context, keyID string, t int64) bool {
	if w.Keys == nil {
		return true
	}
	e, err := w.Keys.Lookup(ctx, keyID)
	if err != nil {
		return false
	}
	k := e.Key()
	return (k.Revoked == 0 || t < k.Revoked) && (k.Expires == 0 || t < k.Expires)
}

func day(ns int64) string { return time.Unix(0, ns).UTC().Format("2006-01-02") }

// Sweep applies the time-driven rules to every active key: expiring soon,
// and unused for UnusedFor.
func (w *Watcher) Sweep(ctx context.Context) error {
	w.init()
	now := w.now()
	if err := w.Store.PruneWatch(ctx, now.Add(-Retention).UnixNano()); err != nil {
		return fmt.Errorf("watch: sweep: %w", err)
	}
	// Pruned alerts may be raised again: forget what was stored.
	w.mu.Lock()
	w.raised = nil
	w.mu.Unlock()
	list, err := w.Store.ActiveKeys(ctx)
	if err != nil {
		return fmt.Errorf("watch: sweep: %w", err)
	}
	for _, k := range list {
		if k.Expires != 0 && now.UnixNano() < k.Expires && time.Duration(k.Expires-now.UnixNano()) <= w.rules.ExpiringWithin {
			when := time.Unix(0, k.Expires).UTC()
			w.raise(ctx, twinex.Alert{UserID: k.UserID, KeyID: k.ID, Kind: twinex.AlertExpiring,
				Dedupe:  fmt.Sprintf("expiring:%s:%d", k.ID, k.Expires),
				Message: fmt.Sprintf("API key %s expires on %s; create a new key before then, or clients using it will be refused.", k.ID, when.Format("2 Jan 2006 15:04 UTC"))})
		}
		if !k.Active(now.UnixNano()) {
			continue
		}
		last := max(k.LastUsed, k.Created)
		if time.Duration(now.UnixNano()-last) >= w.rules.UnusedFor {
			what := "has not been used"
			if k.LastUsed == 0 {
				what = "has never been used"
			}
			w.raise(ctx, twinex.Alert{UserID: k.UserID, KeyID: k.ID, Kind: twinex.AlertUnused,
				Dedupe:  fmt.Sprintf("unused:%s:%d", k.ID, last),
				Message: fmt.Sprintf("API key %s %s for %d days; revoke it if nothing needs it.", k.ID, what, int(w.rules.UnusedFor.Hours()/24))})
		}
	}
	return nil
}

// QuotaWarning raises quota when a key reaches quota.WarnPercent of its
// daily allowance (quota.Service.Warn).
func (w *Watcher) QuotaWarning(k twinex.APIKey, u quota.Usage) {
	w.init()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	w.raise(ctx, twinex.Alert{UserID: k.UserID, KeyID: k.ID, Kind: twinex.AlertQuota,
		Dedupe: fmt.Sprintf("quota:%s:%s", k.ID, u.Resets.Add(-time.Hour).Format("2006-01-02")),
		Message: fmt.Sprintf("API key %s has made %d of the %d requests its %s plan allows per day (%d%%); requests over the limit are refused until %s.",
			k.ID, u.Used, u.Limit, u.Plan.Name, u.Percent(), u.Resets.Format("2 Jan 2006 15:04 UTC"))})
}

// ReportSecret acts on a secret reported public (api.LeakHandler): when it
// opens a key, the key is revoked at once and its owner alerted. A string
// that opens no key is ignored.
func (w *Watcher) ReportSecret(ctx context.Context, secret string, url, source, ip string) error {
	w.init()
	e, err := w.Keys.FindSecret(ctx, secret)
	if errors.Is(err, twinex.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if e.Key().Revoked != 0 {
		return nil // nothing left to protect
	}
	k, err := w.Keys.Revoke(ctx, e.Key().ID)
	if err != nil {
		return err
	}
	w.log().Warn("api key revoked: its secret was reported public", "key", k.ID, "url", url, "source", source, "reporter", ip)
	where := "in public"
	if url != "" {
		where = "at " + url
	}
	if source != "" {
		where += " (reported by " + source + ")"
	}
	w.raise(ctx, twinex.Alert{UserID: k.UserID, KeyID: k.ID, Kind: twinex.AlertLeaked, IP: ip,
		Dedupe:  "leaked:" + k.ID,
		Message: fmt.Sprintf("The secret of API key %s was found %s, so the key was revoked. Create a new key and remove the secret from where it was published.", k.ID, where)})
	return nil
}

// KeyRevoked dismisses a revoked key's alerts: there is nothing left to act
// on (keys.Service.OnRevoke). Alerts raised afterwards, such as a leaked
// secret's, stay open.
func (w *Watcher) KeyRevoked(ctx context.Context, k twinex.APIKey) {
	if err := w.Store.DismissAlerts(ctx, k.UserID, 0, k.ID, w.now().UnixNano()); err != nil {
		w.log().Error("watch: dismiss a revoked key's alerts", "key", k.ID, "err", err)
	}
}

// raise stores an alert and, when it is new, queues its mail. A flood of
// refused requests fires a rule on every record; alerts already stored are
// remembered, so the flood costs no database write.
func (w *Watcher) raise(ctx context.Context, a twinex.Alert) {
	seen := strconv.FormatInt(a.UserID, 10) + ":" + a.Dedupe
	w.mu.Lock()
	known := w.raised[seen]
	w.mu.Unlock()
	if known {
		return
	}
	a.Created = w.now().UnixNano()
	a.Message = strings.TrimSpace(a.Message)
	stored, err := w.Store.RaiseAlert(ctx, &a)
	if err != nil {
		w.log().Error("watch: store alert", "kind", a.Kind, "key", a.KeyID, "err", err)
		return
	}
	w.mu.Lock()
	if w.raised == nil || len(w.raised) >= maxKnownIPs {
		w.raised = map[string]bool{}
	}
	w.raised[seen] = true
	w.mu.Unlock()
	if !stored {
		return
	}
	w.log().Info("alert raised", "kind", a.Kind, "key", a.KeyID, "user", a.UserID, "ip", a.IP)
	if w.OnRaise != nil {
		w.OnRaise(string(a.Kind))
	}
	if w.Mail == nil {
		return
	}
	// Someone holding a secret and many addresses could raise many
	// alerts: past MailsPerKeyDay a day, they are shown but not mailed.
	slot := a.KeyID + ":" + day(a.Created)
	w.mu.Lock()
	if w.mailDay != day(a.Created) {
		w.mailDay, w.mailed = day(a.Created), map[string]int{}
	}
	w.mailed[slot]++
	n := w.mailed[slot]
	w.mu.Unlock()
	if n > MailsPerKeyDay {
		if n == MailsPerKeyDay+1 {
			w.log().Warn("watch: alert mail limit reached for a key today; further alerts are shown, not mailed", "key", a.KeyID)
		}
		return
	}
	select {
	case w.outbox <- a:
	default:
		w.log().Warn("watch: mail queue full; alert stored but not emailed", "alert", a.ID)
	}
}

// Run sends alert mail and sweeps every SweepEvery until ctx ends.
func (w *Watcher) Run(ctx context.Context) {
	w.init()
	tick := time.NewTicker(w.rules.SweepEvery)
	defer tick.Stop()
	if err := w.Sweep(ctx); err != nil {
		w.log().Error("watch: sweep", "err", err)
	}
	for {
		select {
		case <-ctx.Done():
			return
		case a := <-w.outbox:
			w.send(ctx, a)
		case <-tick.C:
			if err := w.Sweep(ctx); err != nil {
				w.log().Error("watch: sweep", "err", err)
			}
		}
	}
}

// Drain sends the mail queued so far (tests, and Run's callers who want
// mail out before checking it).
func (w *Watcher) Drain(ctx context.Context) {
	w.init()
	for {
		select {
		case a := <-w.outbox:
			w.send(ctx, a)
		default:
			return
		}
	}
}
