package app

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/twinex/twinex"
)

func TestLoadFaucet(t *testing.T) {
	ms := twinex.DefaultMarkets()
	dir := t.TempDir()
	f, err := loadFaucet(dir, ms)
	if err != nil || len(f.Grants) != 5 {
		t.Fatalf("defaults: %+v %v", f, err)
	}
	write := func(s string) {
		if err := os.WriteFile(filepath.Join(dir, TestFundsFile), []byte(s), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	write(`{"USD": {"amount": "500", "max": "2000"}, "ETH": {"amount": "2", "max": "2"}}`)
	if f, err = loadFaucet(dir, ms); err != nil || len(f.Grants) != 2 || f.Grant("BTC") != nil ||
		twinex.FormatUnits(f.Grant("USD").Max, f.Grant("USD").Currency.Scale) != "2000" {
		t.Fatalf("from the file: %+v %v", f, err)
	}
	for _, bad := range []string{`{"DOGE": {"amount": "1", "max": "2"}}`, `{"USD": {"amount": "5", "max": "1"}}`, `{"USD": {"amount": "5", "cap": "9"}}`, `[`} {
		write(bad)
		if _, err := loadFaucet(dir, ms); err == nil {
			t.Errorf("loadFaucet accepted %s", bad)
		}
	}
}
