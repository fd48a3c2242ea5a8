package app

import (
	"errors"
	"fmt"
	"net"
	"net/netip"
	"strings"
	"time"
)

// Mode is how a server runs.
type Mode string

const (
	// Sandbox (the default) is for developers: simulated markets, fault
	// injection, a demo account, relaxed approval holds.
	Sandbox Mode = "sandbox"
	// Production is for a real venue: none of the sandbox's conveniences,
	// and it refuses insecure settings.
	Production Mode = "production"
)

// ParseMode parses "sandbox" or "production" ("" is sandbox).
func ParseMode(s string) (Mode, error) {
	switch Mode(strings.ToLower(strings.TrimSpace(s))) {
	case "", Sandbox:
		return Sandbox, nil
	case Production:
		return Production, nil
	}
	return "", fmt.Errorf("unknown mode %q: use sandbox or production", s)
}

// ProductionApprovalWait is Gemini's hold on new withdrawal addresses.
const ProductionApprovalWait = 7 * 24 * time.Hour

// checkProduction refuses settings that are unsafe for a real venue: Twinex
// speaks plain HTTP, so beyond loopback it must sit behind a TLS-terminating
// proxy, which must be listed as trusted (else every client would appear to
// come from the proxy's address, and allowlists would mean nothing).
func checkProduction(listen string, trusted []netip.Prefix) error {
	host, _, err := net.SplitHostPort(listen)
	if err != nil {
		return fmt.Errorf("--listen %q: %w", listen, err)
	}
	if host == "localhost" {
		return nil
	}
	ip, err := netip.ParseAddr(host)
	if err == nil && ip.IsLoopback() {
		return nil
	}
	if len(trusted) == 0 {
		return errors.New("production mode refuses to listen beyond loopback without TLS: put Twinex behind a TLS-terminating proxy and list it in TWINEX_TRUSTED_PROXIES, or listen on 127.0.0.1")
	}
	return nil
}
