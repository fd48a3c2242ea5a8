package twinex

import "context"

// Plan is a daily allowance of signed requests per API key. Gemini's own
// limits are per second (see ratelimit); a plan bounds a key's whole day.
type Plan struct {
	Name string
	// DailyRequests is how many signed requests each of the user's keys
	// may make per UTC day; 0 is unlimited.
	DailyRequests int64
}

// The plans Twinex knows. Every user is on FreePlan until an operator
// assigns another.
var (
	FreePlan      = Plan{Name: "free", DailyRequests: 100_000}
	ProPlan       = Plan{Name: "pro", DailyRequests: 1_000_000}
	UnlimitedPlan = Plan{Name: "unlimited"}
	Plans         = []Plan{FreePlan, ProPlan, UnlimitedPlan}
)

// PlanNamed returns the plan called name.
func PlanNamed(name string) (Plan, bool) {
	for _, p := range Plans {
		if p.Name == name {
			return p, true
		}
	}
	return Plan{}, false
}

// UsagePoint is a key's requests in one minute (or a longer step, summed).
type UsagePoint struct {
	Minute   int64 // Unix minutes (Unix seconds / 60) of the step's start
	Requests int64 // every request that named the key
	Errors   int64 // those that failed
	Counted  int64 // those counted against the key's daily quota
}

// AlertKind names an alert rule.
type AlertKind string

const (
	AlertNewIP     AlertKind = "new_ip"    // a key used from an address it never used before
	AlertAllowlist AlertKind = "allowlist" // requests refused by a key's IP allowlist
	AlertSpike     AlertKind = "spike"     // a key's request rate far above its baseline
	AlertBadSig    AlertKind = "bad_sig"   // repeated InvalidSignature: the key id without its secret
	AlertExpiring  AlertKind = "expiring"  // a key expires soon
	AlertUnused    AlertKind = "unused"    // a key not used for 90 days
	AlertQuota     AlertKind = "quota"     // a key used 80% of its daily quota
	AlertLeaked    AlertKind = "leaked"    // a key's secret was reported public; it is revoked
)

// AlertKinds lists every alert rule.
var AlertKinds = []AlertKind{AlertNewIP, AlertAllowlist, AlertSpike, AlertBadSig, AlertExpiring, AlertUnused, AlertQuota, AlertLeaked}

// Alert is something about a user's key that the user should look at.
type Alert struct {
	ID     int64
	UserID int64
	KeyID  string
	Kind   AlertKind
	// Dedupe identifies the occurrence: a user gets one alert per value
	// (e.g. "new_ip:<key>:<ip>"), however often the rule fires.
	Dedupe    string
	IP        string // the address involved, if any
	Message   string // one sentence for the user
	Created   int64  // Unix ns
	Dismissed int64  // Unix ns; 0 while shown
}

// UsageStore keeps keys' use per minute: the activity log's rollup,
// written by AddActivity with the records.
type UsageStore interface {
	// Usage returns a key's usage per minute in [from, to) (Unix minutes),
	// oldest first; minutes without requests are absent.
	Usage(ctx context.Context, keyID string, from, to int64) ([]UsagePoint, error)
	// CountedSince returns each key's requests counted against its quota
	// since minute (Unix minutes), for keys with any.
	CountedSince(ctx context.Context, minute int64) (map[string]int64, error)
	// PruneUsage deletes usage before minute.
	PruneUsage(ctx context.Context, minute int64) error
}

// AlertStore keeps the alert rules' state: the addresses each key has
// been used from, the alerts, and the keys the periodic checks look at.
type AlertStore interface {
	// NoteKeyIP records that a key was used from ip at time t; it reports
	// whether the address is new for the key and whether the key had been
	// used from any address before.
	NoteKeyIP(ctx context.Context, keyID, ip string, t int64) (isNew, seenBefore bool, err error)

	// RaiseAlert stores a, setting its ID, unless the user already has an
	// alert with its Dedupe; it reports whether it stored it.
	RaiseAlert(ctx context.Context, a *Alert) (bool, error)
	// Alerts returns a user's alerts, newest first; dismissed ones only
	// when all is set.
	Alerts(ctx context.Context, userID int64, all bool, limit int) ([]Alert, error)
	// DismissAlerts dismisses a user's alert id, or with id 0 every alert
	// of keyID; dismissing twice changes nothing.
	DismissAlerts(ctx context.Context, userID, id int64, keyID string, t int64) error

	// Alert returns one of a user's alerts; ErrNotFound when the user has
	// no alert id.
	Alert(ctx context.Context, userID, id int64) (Alert, error)
	// OpenAlerts counts a user's alerts that are not dismissed.
	OpenAlerts(ctx context.Context, userID int64) (int, error)
	// PruneWatch deletes alerts dismissed before t and the addresses of
	// keys revoked before t (Unix ns).
	PruneWatch(ctx context.Context, t int64) error

	// ActiveKeys lists the keys that are not revoked, for the periodic
	// checks.
	ActiveKeys(ctx context.Context) ([]APIKey, error)
}

// PlanStore keeps users' plans.
type PlanStore interface {
	// UserPlan returns the name of a user's plan, "" when none is set.
	UserPlan(ctx context.Context, userID int64) (string, error)
	SetUserPlan(ctx context.Context, userID int64, plan string) error
}

// FingerprintStore maps secrets' fingerprints to keys, so that a reported
// secret finds its key. AddFingerprints maps fingerprints to a key; an
// existing fingerprint is left alone. KeyByFingerprint returns ErrNotFound
// for an unknown one. Unfingerprinted lists keys that have none (created
// before fingerprints existed).
type FingerprintStore interface {
	AddFingerprints(ctx context.Context, keyID string, fps ...[]byte) error
	KeyByFingerprint(ctx context.Context, fp []byte) (string, error)
	Unfingerprinted(ctx context.Context) ([]APIKey, error)
}

// WatchStore is everything watching keys needs beyond the activity log:
// usage, alerts, plans and fingerprints. The sqlite store implements it;
// each user takes only the parts it needs.
type WatchStore interface {
	UsageStore
	AlertStore
	PlanStore
	FingerprintStore
}
