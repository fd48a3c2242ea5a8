package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/exchange"
)

// TestFundsFile is the sandbox's test-funds setting in the data directory:
// per currency, what a new user's primary account starts with and what one
// "Add test funds" adds ("amount"), and the most an account may reach by
// topping up ("max"). It replaces exchange.DefaultGrants whole; a currency
// left out gets no test funds.
//
//	{"USD": {"amount": "10000", "max": "100000"}, "BTC": {"amount": "1", "max": "10"}}
const TestFundsFile = "test-funds.json"

// loadFaucet returns the sandbox's test funds: the file's, else the
// defaults for the markets' currencies.
func loadFaucet(dir string, ms *twinex.Markets) (*exchange.Faucet, error) {
	data, err := os.ReadFile(filepath.Join(dir, TestFundsFile))
	if errors.Is(err, fs.ErrNotExist) {
		return exchange.DefaultFaucet(ms), nil
	}
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TestFundsFile, err)
	}
	var f map[string]struct {
		Amount string `json:"amount"`
		Max    string `json:"max"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("%s: %w", TestFundsFile, err)
	}
	grants := map[string][2]string{}
	for code, g := range f {
		grants[code] = [2]string{g.Amount, g.Max}
	}
	faucet, err := exchange.NewFaucet(ms, grants)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", TestFundsFile, err)
	}
	return faucet, nil
}
