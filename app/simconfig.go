package app

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/twinex/twinex/sim"
)

// simFile is <data>/simulator.json: per-market changes to the simulator's
// defaults. Every field is optional; durations are Go durations ("5s").
//
//	{"markets": [
//	  {"symbol": "btcusd", "volatility": 1.2, "spread_bps": 20, "levels": 15,
//	   "taker_rate": 3, "depth_growth_pct": 50, "big_order_prob": 0.1, "big_order_size": "2"},
//	  {"symbol": "ethusd", "model": "replay", "replay_csv": "ethusd.csv"}
//	]}
//
// A replay CSV has lines "unix_ms,price" ('#' starts a comment); a relative
// path is relative to the data directory, and "sample" is the bundled
// synthetic btcusd path.
type simFile struct {
	Markets []simMarket `json:"markets"`
}

// simMarket is one market's settings in simulator.json; a field left out
// keeps the default.
type simMarket struct {
	Symbol           string   `json:"symbol"`
	Start            string   `json:"start"`
	Model            string   `json:"model"`
	Drift            *float64 `json:"drift"`
	Volatility       *float64 `json:"volatility"`
	ReplayCSV        string   `json:"replay_csv"`
	SpreadBps        int      `json:"spread_bps"`
	LevelBps         int      `json:"level_bps"`
	Levels           int      `json:"levels"`
	Size             string   `json:"size"`
	RefreshEvery     string   `json:"refresh_every"`
	RequoteBps       int      `json:"requote_bps"`
	MaxQuoteAge      string   `json:"max_quote_age"`
	TakerRate        *float64 `json:"taker_rate"`
	TakerMaxSize     string   `json:"taker_max_size"`
	TakerSlippageBps int      `json:"taker_slippage_bps"`
	HistoryRate      *float64 `json:"history_rate"`
	DepthGrowthPct   *int     `json:"depth_growth_pct"`
	BigOrderProb     *float64 `json:"big_order_prob"`
	BigOrderSize     string   `json:"big_order_size"`
}

// applySimFile changes cfg by <data>/simulator.json, if there is one.
func applySimFile(dir string, cfg *sim.Config) error {
	data, err := os.ReadFile(filepath.Join(dir, "simulator.json"))
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("simulator.json: %w", err)
	}
	var f simFile
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return fmt.Errorf("simulator.json: %w", err)
	}
	for _, in := range f.Markets {
		var mc *sim.MarketConfig
		for i := range cfg.Markets {
			if cfg.Markets[i].Symbol == in.Symbol {
				mc = &cfg.Markets[i]
			}
		}
		if mc == nil {
			return fmt.Errorf("simulator.json: no market %q", in.Symbol)
		}
		if err := applySimMarket(dir, mc, in); err != nil {
			return err
		}
	}
	return nil
}

// applySimMarket changes mc by in, one market's settings from
// simulator.json in the data directory dir.
func applySimMarket(dir string, mc *sim.MarketConfig, in simMarket) error {
	setStr := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	setInt := func(dst *int, v int) {
		if v != 0 {
			*dst = v
		}
	}
	setDur := func(dst *time.Duration, v, name string) error {
		if v == "" {
			return nil
		}
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 {
			return fmt.Errorf("simulator.json: %s: %s must be a positive duration", in.Symbol, name)
		}
		*dst = d
		return nil
	}
	setStr(&mc.Start, in.Start)
	setStr(&mc.Model, in.Model)
	setStr(&mc.Size, in.Size)
	setStr(&mc.TakerMaxSize, in.TakerMaxSize)
	setInt(&mc.SpreadBps, in.SpreadBps)
	setInt(&mc.LevelBps, in.LevelBps)
	setInt(&mc.Levels, in.Levels)
	setInt(&mc.RequoteBps, in.RequoteBps)
	setInt(&mc.TakerSlippageBps, in.TakerSlippageBps)
	if in.Drift != nil {
		mc.Drift = *in.Drift
	}
	if in.Volatility != nil {
		mc.Volatility = *in.Volatility
	}
	if in.TakerRate != nil {
		mc.TakerRate = *in.TakerRate
	}
	if in.HistoryRate != nil {
		mc.HistoryRate = *in.HistoryRate
	}
	if in.DepthGrowthPct != nil {
		mc.DepthGrowthPct = *in.DepthGrowthPct
	}
	if in.BigOrderProb != nil {
		mc.BigOrderProb = *in.BigOrderProb
	}
	setStr(&mc.BigOrderSize, in.BigOrderSize)
	if err := setDur(&mc.RefreshEvery, in.RefreshEvery, "refresh_every"); err != nil {
		return err
	}
	if err := setDur(&mc.MaxQuoteAge, in.MaxQuoteAge, "max_quote_age"); err != nil {
		return err
	}
	switch in.ReplayCSV {
	case "":
	case "sample":
		mc.Replay = sim.SampleBTCUSD()
	default:
		p := in.ReplayCSV
		if !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		r, err := os.Open(p)
		if err != nil {
			return fmt.Errorf("simulator.json: %s: %w", in.Symbol, err)
		}
		mc.Replay, err = sim.ParseReplayCSV(r)
		r.Close()
		if err != nil {
			return fmt.Errorf("simulator.json: %s: %w", in.Symbol, err)
		}
	}
	return nil
}
