package bench

import (
	"context"
	"fmt"
	"os"
	"slices"
	"time"

	"github.com/twinex/twinex"
)

// JournalConfig configures the journal benchmark: Records appends of
// RecordBytes each, one record per append (one sync each), as the
// committer makes them.
type JournalConfig struct {
	Records     int
	RecordBytes int
	OpenJournal func(dir string) (twinex.Journal, error)
	Journal     string // its name, for the figures
}

// JournalResult is the journal benchmark's figures.
type JournalResult struct {
	Journal       string  `json:"journal"`
	Records       int     `json:"records"`
	RecordBytes   int     `json:"record_bytes"`
	AppendsPerSec float64 `json:"appends_per_sec"`
	MBPerSec      float64 `json:"mb_per_sec"`
	P50us         float64 `json:"append_p50_us"`
	P99us         float64 `json:"append_p99_us"`
	ReplayMS      float64 `json:"replay_ms"` // reading every record back after reopening
}

// Journal times appends to a journal in a temporary directory, then
// reopening it and replaying every record.
func Journal(ctx context.Context, cfg JournalConfig) (JournalResult, error) {
	res := JournalResult{Journal: cfg.Journal, Records: cfg.Records, RecordBytes: cfg.RecordBytes}
	if cfg.OpenJournal == nil || cfg.Records <= 0 || cfg.RecordBytes <= 0 {
		return res, fmt.Errorf("bench: the journal benchmark needs a journal, records and a record size")
	}
	dir, err := os.MkdirTemp("", "twinex-bench-journal-")
	if err != nil {
		return res, err
	}
	defer os.RemoveAll(dir)
	j, err := cfg.OpenJournal(dir)
	if err != nil {
		return res, err
	}
	data := make([]byte, cfg.RecordBytes)
	for i := range data {
		data[i] = byte(i * 7)
	}
	lat := make([]float64, cfg.Records)
	start := time.Now()
	for i := range cfg.Records {
		t0 := time.Now()
		if err := j.Append(ctx, []twinex.JournalRecord{{Seq: uint64(i + 1), Data: data}}); err != nil {
			j.Close()
			return res, err
		}
		lat[i] = float64(time.Since(t0).Microseconds())
	}
	elapsed := time.Since(start)
	if err := j.Close(); err != nil {
		return res, err
	}
	res.AppendsPerSec = float64(cfg.Records) / elapsed.Seconds()
	res.MBPerSec = res.AppendsPerSec * float64(cfg.RecordBytes) / 1e6
	slices.Sort(lat)
	res.P50us, res.P99us = lat[len(lat)/2], lat[len(lat)*99/100]
	start = time.Now()
	if j, err = cfg.OpenJournal(dir); err != nil {
		return res, err
	}
	defer j.Close()
	n := 0
	if err := j.Replay(ctx, 0, func(twinex.JournalRecord) error { n++; return nil }); err != nil {
		return res, err
	}
	res.ReplayMS = ms(time.Since(start))
	if n != cfg.Records {
		return res, fmt.Errorf("bench: replayed %d records of %d", n, cfg.Records)
	}
	return res, nil
}
