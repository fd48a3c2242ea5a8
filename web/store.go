package web

import "github.com/twinex/twinex"

// The dashboard's rows and store are domain types (twinex), named here as
// the dashboard's code knows them.
type (
	Session      = twinex.Session
	EmailToken   = twinex.EmailToken
	LoginAttempt = twinex.LoginAttempt
	AuditEvent   = twinex.AuditEvent
	MFA          = twinex.MFA
	Store        = twinex.DashboardStore
)

// Token purposes.
const (
	purposeVerify = "verify"
	purposeReset  = "reset"
)
