package twinex

import "context"

// What the dashboard stores: browser sessions, emailed single-use links,
// login attempts (for throttling), each user's audit log and second
// factor. Times are Unix nanoseconds.

// Session is a signed-in browser's server-side session.
type Session struct {
	ID       string // hex SHA-256 of the cookie's token
	UserID   int64
	Created  int64 // Unix ns
	Expires  int64 // absolute expiry, Unix ns
	LastSeen int64 // Unix ns, for the idle expiry
	IP       string
	MFA      bool // the second factor was given in this session
}

// EmailToken is an emailed single-use link: an email verification
// (purpose "verify") or a password reset ("reset").
type EmailToken struct {
	Hash    string // hex SHA-256 of the token in the link
	UserID  int64
	Purpose string // "verify" or "reset"
	Created int64  // Unix ns
	Expires int64  // Unix ns
	Used    int64  // Unix ns; 0 while unused
}

// LoginAttempt is one login attempt, kept for throttling.
type LoginAttempt struct {
	Email string // lower case; the address need not have an account
	IP    string
	Time  int64 // Unix ns
	OK    bool
}

// AuditEvent is one entry of a user's audit log.
type AuditEvent struct {
	UserID int64
	Time   int64 // Unix ns
	IP     string
	Action string // e.g. "login", "password_reset"
	Detail string
}

// MFA is a user's TOTP second factor.
type MFA struct {
	UserID   int64
	Secret   []byte // sealed base32 secret
	Enabled  int64  // Unix ns when confirmed; 0 while enrolling
	LastStep int64  // time step of the last accepted code
	Recovery string // hashes of the unused recovery codes, one per line
}

// DashboardStore keeps the dashboard's sign-in state. Look-ups that match nothing
// return an error wrapping twinex.ErrNotFound.
type DashboardStore interface {
	// CreateSession stores a new session (twinex.ErrConflict if its id is
	// taken); Session returns one, expired or not; Sessions lists a user's,
	// most recently seen first.
	CreateSession(ctx context.Context, s Session) error
	Session(ctx context.Context, id string) (Session, error)
	Sessions(ctx context.Context, userID int64) ([]Session, error)
	// TouchSession sets LastSeen; SetSessionMFA sets MFA.
	TouchSession(ctx context.Context, id string, lastSeen int64) error
	SetSessionMFA(ctx context.Context, id string, ok bool) error
	// DeleteSession deletes one session (no error if it is gone);
	// DeleteUserSessions deletes a user's sessions except the one with id
	// except ("" for none).
	DeleteSession(ctx context.Context, id string) error
	DeleteUserSessions(ctx context.Context, userID int64, except string) error

	// CreateEmailToken stores a token; EmailToken returns one, used or
	// expired or not.
	CreateEmailToken(ctx context.Context, t EmailToken) error
	EmailToken(ctx context.Context, hash string) (EmailToken, error)
	// VerifyEmail uses an unused, unexpired "verify" token and marks its
	// user's email verified, atomically; twinex.ErrNotFound otherwise.
	VerifyEmail(ctx context.Context, hash string, now int64) (userID int64, err error)
	// SetEmailVerified marks an email verified without a token (operators,
	// the demo user); EmailVerified returns when it was verified, or 0.
	SetEmailVerified(ctx context.Context, userID, at int64) error
	EmailVerified(ctx context.Context, userID int64) (int64, error)
	// ResetPassword uses an unused, unexpired "reset" token, sets the
	// user's password hash, deletes all the user's sessions and voids the
	// user's other reset tokens, atomically; twinex.ErrNotFound when the
	// token is unknown, used or expired.
	ResetPassword(ctx context.Context, hash, passwordHash string, now int64) (userID int64, err error)
	// ChangePassword sets a user's password hash and deletes the user's
	// sessions other than keepSession, atomically.
	ChangePassword(ctx context.Context, userID int64, passwordHash, keepSession string) error

	// AddLoginAttempt records an attempt; LoginAttempts returns those at or
	// after since that were for email or came from ip, oldest first.
	AddLoginAttempt(ctx context.Context, a LoginAttempt) error
	LoginAttempts(ctx context.Context, email, ip string, since int64) ([]LoginAttempt, error)

	// AddAudit appends to a user's audit log; AuditLog returns the latest
	// limit events, newest first.
	AddAudit(ctx context.Context, e AuditEvent) error
	AuditLog(ctx context.Context, userID int64, limit int) ([]AuditEvent, error)
	// HasAudit reports whether the user's log has an event with action,
	// from ip unless ip is "".
	HasAudit(ctx context.Context, userID int64, action, ip string) (bool, error)

	// MFA returns a user's second factor (twinex.ErrNotFound if none).
	// StartMFA stores an unconfirmed secret, replacing an unconfirmed one
	// (twinex.ErrConflict if one is enabled); EnableMFA confirms it.
	// AdvanceMFA stores the step of an accepted code if it is later than
	// the stored one and SetMFARecovery replaces the recovery hashes if
	// they are still old; both report whether they did, so that a code
	// works once even under concurrent requests. DeleteMFA removes it.
	MFA(ctx context.Context, userID int64) (MFA, error)
	StartMFA(ctx context.Context, userID int64, secret []byte) error
	EnableMFA(ctx context.Context, userID, at, step int64, recovery string) error
	AdvanceMFA(ctx context.Context, userID, step int64) (bool, error)
	SetMFARecovery(ctx context.Context, userID int64, old, recovery string) (bool, error)
	DeleteMFA(ctx context.Context, userID int64) error

	// PruneWeb deletes sessions and tokens expired by now and login
	// attempts older than attemptsBefore.
	PruneWeb(ctx context.Context, now, attemptsBefore int64) error
}
