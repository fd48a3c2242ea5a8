// Package auth holds the small primitives of Gemini-style API authentication
// that the HTTP layer puts together: nonces (nonce.go), payload signatures
// and decoding (payload.go), key ids and secrets (keyid.go), IP allowlists
// (allowlist.go), the client address behind trusted proxies (clientip.go),
// and the encryption of secrets at rest (masterkey.go, sealer.go). Roles are
// a domain concept and live in the root package (twinex.Role).
//
// The package does no I/O except LoadMasterKey, reads no clock (callers
// pass now), and keeps no state: the last nonce of a key, the key's roles
// and its allowlist live in the store, and the HTTP layer decides the order
// of the checks (reference §1.3: nothing in the payload is trusted until
// the signature checks out).
//
// Errors meant for API clients are *twinex.Error values carrying a Gemini
// reason (InvalidNonce, InvalidJson); each function's comment names the
// reasons it returns. Errors meant for operators (LoadMasterKey, Sealer)
// and for dashboard input (ParseAllowlist) are plain errors
// whose text is safe to show to the person who supplied the input.
package auth
