package web

import (
	"context"
	"time"
)

// Login throttling: maxEmailFailures failed logins for one email, or
// maxIPFailures from one address, within throttleWindow lock that email
// (address) for lockDuration from the failure that reached the limit.
// While locked, attempts are refused without checking the password and are
// not recorded, so a lock ends on time however hard it is hammered; the
// page offers the password reset, whose success lifts the email's lock (it
// records a successful attempt). A successful login clears an email's
// failures; an address's failures are not cleared by success, so that an
// attacker cannot reset their count by logging into an account of their
// own. Attempts for emails without an account count the same, so a lock
// says nothing about whether an account exists.
const (
	maxEmailFailures = 5
	maxIPFailures    = 20
	throttleWindow   = 15 * time.Minute
	lockDuration     = 15 * time.Minute
)

// lockedUntil returns when the lock on a login for email from ip ends, or
// the zero time when there is none.
func (s *Server) lockedUntil(ctx context.Context, email, ip string, now time.Time) (time.Time, error) {
	since := now.Add(-throttleWindow - lockDuration).UnixNano()
	attempts, err := s.Store.LoginAttempts(ctx, email, ip, since)
	if err != nil {
		return time.Time{}, err
	}
	var byEmail, byIP []int64
	for _, a := range attempts {
		if a.Email == email {
			if a.OK {
				byEmail = byEmail[:0]
			} else {
				byEmail = append(byEmail, a.Time)
			}
		}
		if a.IP == ip && !a.OK {
			byIP = append(byIP, a.Time)
		}
	}
	until := max(lockEnd(byEmail, maxEmailFailures), lockEnd(byIP, maxIPFailures))
	if until <= now.UnixNano() {
		return time.Time{}, nil
	}
	return time.Unix(0, until), nil
}

// lockEnd returns the end of the latest lock that failures (ascending
// times) caused: limit of them within throttleWindow lock until
// lockDuration after the last of them. 0 when there is none.
func lockEnd(failures []int64, limit int) int64 {
	var end int64
	for i := limit - 1; i < len(failures); i++ {
		if failures[i]-failures[i-limit+1] <= int64(throttleWindow) {
			end = max(end, failures[i]+int64(lockDuration))
		}
	}
	return end
}
