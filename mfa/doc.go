// Package mfa is the logic of the second factor: TOTP enrolment (secret,
// otpauth URL and a QR code rendered on the server), TOTP verification that
// refuses a code used before, and single-use recovery codes.
//
// It is pure: it reads no clock (callers pass the time, taken once per
// request) and stores nothing. Callers keep, per account, the TOTP secret
// sealed with auth.Sealer, the last accepted time step, and the recovery
// code hashes.
package mfa
