package storetest

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/twinex/twinex"
)

// JournalOpener opens a journal whose data lives in dir; called again with
// the same dir after the first journal was closed, it returns one holding
// the same records. The suite closes every journal it opens.
type JournalOpener func(t *testing.T, dir string) twinex.Journal

// RunJournal runs the contract suite of twinex.Journal.
func RunJournal(t *testing.T, open JournalOpener) { // long: one contract suite; its cases are subtests sharing the opener, read top to bottom
	ctx := context.Background()
	rec := func(seq uint64) twinex.JournalRecord {
		return twinex.JournalRecord{Seq: seq, Data: []byte(fmt.Sprintf("batch %d %s", seq, bytes.Repeat([]byte{byte(seq)}, int(seq%7))))}
	}
	replay := func(t *testing.T, j twinex.Journal, after uint64) []uint64 {
		t.Helper()
		var seqs []uint64
		err := j.Replay(ctx, after, func(r twinex.JournalRecord) error {
			if want := rec(r.Seq).Data; !bytes.Equal(r.Data, want) {
				t.Fatalf("record %d: data %q, want %q", r.Seq, r.Data, want)
			}
			seqs = append(seqs, r.Seq)
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		return seqs
	}
	reopen := func(t *testing.T, j twinex.Journal, dir string) twinex.Journal {
		t.Helper()
		if err := j.Close(); err != nil {
			t.Fatal(err)
		}
		j = open(t, dir)
		t.Cleanup(func() { j.Close() })
		return j
	}
	fresh := func(t *testing.T) (twinex.Journal, string) {
		dir := t.TempDir()
		j := open(t, dir)
		t.Cleanup(func() { j.Close() })
		return j, dir
	}

	t.Run("Empty", func(t *testing.T) {
		j, _ := fresh(t)
		if j.Last() != 0 || len(replay(t, j, 0)) != 0 || j.ID() == "" {
			t.Fatalf("new journal: last %d, id %q", j.Last(), j.ID())
		}
	})
	t.Run("AppendReplayReopen", func(t *testing.T) {
		j, dir := fresh(t)
		id := j.ID()
		if err := j.Append(ctx, []twinex.JournalRecord{rec(1), rec(2), rec(5)}); err != nil {
			t.Fatal(err)
		}
		if err := j.Append(ctx, []twinex.JournalRecord{rec(9)}); err != nil {
			t.Fatal(err)
		}
		if got := replay(t, j, 0); fmt.Sprint(got) != "[1 2 5 9]" {
			t.Fatalf("replay: %v", got)
		}
		if got := replay(t, j, 2); fmt.Sprint(got) != "[5 9]" {
			t.Fatalf("replay after 2: %v", got)
		}
		j = reopen(t, j, dir)
		if j.Last() != 9 || j.ID() != id {
			t.Fatalf("reopened: last %d id %q, want 9 %q", j.Last(), j.ID(), id)
		}
		if got := replay(t, j, 0); fmt.Sprint(got) != "[1 2 5 9]" {
			t.Fatalf("replay after reopen: %v", got)
		}
		if err := j.Append(ctx, []twinex.JournalRecord{rec(10)}); err != nil {
			t.Fatal(err)
		}
		if got := replay(t, j, 5); fmt.Sprint(got) != "[9 10]" {
			t.Fatalf("replay: %v", got)
		}
	})
	t.Run("OutOfOrder", func(t *testing.T) {
		j, _ := fresh(t)
		if err := j.Append(ctx, []twinex.JournalRecord{rec(3)}); err != nil {
			t.Fatal(err)
		}
		for _, bad := range [][]twinex.JournalRecord{{rec(3)}, {rec(2)}, {rec(4), rec(4)}} {
			if err := j.Append(ctx, bad); err == nil {
				t.Fatalf("appending %d after 3 was accepted", bad[0].Seq)
			}
		}
		if got := replay(t, j, 0); fmt.Sprint(got) != "[3]" {
			t.Fatalf("a refused append left records: %v", got)
		}
	})
	t.Run("Truncate", func(t *testing.T) {
		j, dir := fresh(t)
		for s := uint64(1); s <= 6; s++ {
			if err := j.Append(ctx, []twinex.JournalRecord{rec(s)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := j.Truncate(ctx, 3); err != nil {
			t.Fatal(err)
		}
		// Truncate may keep records up to 3; those after must stay.
		if got := replay(t, j, 3); fmt.Sprint(got) != "[4 5 6]" {
			t.Fatalf("after truncating to 3: %v", got)
		}
		if err := j.Truncate(ctx, 6); err != nil {
			t.Fatal(err)
		}
		if got := replay(t, j, 6); len(got) != 0 {
			t.Fatalf("truncating every record kept %v", got)
		}
		if err := j.Append(ctx, []twinex.JournalRecord{rec(7)}); err != nil {
			t.Fatal(err)
		}
		j = reopen(t, j, dir)
		if got := replay(t, j, 6); fmt.Sprint(got) != "[7]" {
			t.Fatalf("after truncate, append and reopen: %v", got)
		}
		// The records up to 6 are gone: a replay from before them (a
		// database older than the journal) must say so, not skip them.
		err := j.Replay(ctx, 2, func(twinex.JournalRecord) error { return nil })
		if err == nil || !strings.Contains(err.Error(), "missing") {
			t.Fatalf("a replay from 2 once the records up to 6 were dropped: %v, want an error saying records are missing", err)
		}
	})
}
