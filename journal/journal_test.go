package journal

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/storetest"
)

func TestContract(t *testing.T) {
	storetest.RunJournal(t, func(t *testing.T, dir string) twinex.Journal {
		j, err := Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		return j
	})
}

func data(seq uint64) []byte { return []byte(fmt.Sprintf("record %d", seq)) }

// build writes records 1..n in appends of one, and returns the segment's
// path and the offsets at which each record starts (and the end).
func build(t *testing.T, dir string, n int) (string, []int64) {
	t.Helper()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	offs := []int64{j.size}
	for s := uint64(1); s <= uint64(n); s++ {
		if err := j.Append(context.Background(), []twinex.JournalRecord{{Seq: s, Data: data(s)}}); err != nil {
			t.Fatal(err)
		}
		offs = append(offs, j.size)
	}
	path := j.segs[len(j.segs)-1].path
	j.Close()
	return path, offs
}

func seqs(t *testing.T, j *File) []uint64 {
	t.Helper()
	var out []uint64
	if err := j.Replay(context.Background(), 0, func(r twinex.JournalRecord) error {
		if string(r.Data) != string(data(r.Seq)) {
			t.Fatalf("record %d reads %q", r.Seq, r.Data)
		}
		out = append(out, r.Seq)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	return out
}

// A torn tail, cut at every byte inside the last record, is cut off: the
// complete records are recovered, and the journal appends after them.
func TestTornTail(t *testing.T) {
	src := t.TempDir()
	path, offs := build(t, src, 3)
	whole, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	for cut := offs[2]; cut < offs[3]; cut++ {
		dir := t.TempDir()
		p := filepath.Join(dir, filepath.Base(path))
		if err := os.WriteFile(p, whole[:cut], 0o600); err != nil {
			t.Fatal(err)
		}
		j, err := Open(dir)
		if err != nil {
			t.Fatalf("cut at %d: %v", cut, err)
		}
		if got := seqs(t, j); fmt.Sprint(got) != "[1 2]" || j.Last() != 2 {
			t.Fatalf("cut at %d: records %v, last %d", cut, got, j.Last())
		}
		if err := j.Append(context.Background(), []twinex.JournalRecord{{Seq: 3, Data: data(3)}}); err != nil {
			t.Fatal(err)
		}
		j.Close()
		j, err = Open(dir)
		if err != nil {
			t.Fatal(err)
		}
		if got := seqs(t, j); fmt.Sprint(got) != "[1 2 3]" {
			t.Fatalf("cut at %d, appended again: %v", cut, got)
		}
		j.Close()
	}
}

// Zeros where the last record should be (a size extended before its data
// reached the disk) are a torn tail too.
func TestZeroTail(t *testing.T) {
	dir := t.TempDir()
	path, offs := build(t, dir, 2)
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := f.WriteAt(make([]byte, 100), offs[1]); err != nil {
		t.Fatal(err)
	}
	f.Close()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if got := seqs(t, j); fmt.Sprint(got) != "[1]" {
		t.Fatalf("records %v", got)
	}
}

// Damage with good records after it is not a torn tail: Open refuses and
// says where.
func TestDamageInTheMiddle(t *testing.T) {
	dir := t.TempDir()
	path, offs := build(t, dir, 3)
	whole, _ := os.ReadFile(path)
	whole[offs[1]+recordHead+1] ^= 0xff // a byte of record 2's data
	if err := os.WriteFile(path, whole, 0o600); err != nil {
		t.Fatal(err)
	}
	_, err := Open(dir)
	if !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open: %v, want ErrDamaged", err)
	}
	want := fmt.Sprintf("at byte %d", offs[1])
	if msg := err.Error(); !strings.Contains(msg, want) || !strings.Contains(msg, filepath.Base(path)) || !strings.Contains(msg, "restore") {
		t.Fatalf("the message does not say where and what to do: %s", msg)
	}
}

// A segment that is not the last must be whole.
func TestDamagedOlderSegment(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := j.Append(ctx, []twinex.JournalRecord{{Seq: 1, Data: data(1)}, {Seq: 2, Data: data(2)}}); err != nil {
		t.Fatal(err)
	}
	old := j.segs[0].path
	if err := j.startSegment(3); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(ctx, []twinex.JournalRecord{{Seq: 3, Data: data(3)}}); err != nil {
		t.Fatal(err)
	}
	j.Close()
	info, _ := os.Stat(old)
	if err := os.Truncate(old, info.Size()-3); err != nil {
		t.Fatal(err)
	}
	// Open reads the last segment; the older ones are read by Replay,
	// which recovery runs before serving.
	j, err = Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	err = j.Replay(ctx, 0, func(twinex.JournalRecord) error { return nil })
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), filepath.Base(old)) {
		t.Fatalf("Replay: %v, want ErrDamaged naming %s", err, filepath.Base(old))
	}
}

// Segments roll over and Truncate drops whole ones.
func TestSegments(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	big := make([]byte, SegmentSize/3)
	for s := uint64(1); s <= 7; s++ {
		big[0] = byte(s)
		if err := j.Append(ctx, []twinex.JournalRecord{{Seq: s, Data: big}}); err != nil {
			t.Fatal(err)
		}
	}
	if n := j.Segments(); n < 2 {
		t.Fatalf("%d segments after 7 appends of a third of a segment", n)
	}
	before := j.Segments()
	if err := j.Truncate(ctx, 4); err != nil {
		t.Fatal(err)
	}
	if j.Segments() >= before {
		t.Fatalf("Truncate(4) kept all %d segments", before)
	}
	var got []uint64
	if err := j.Replay(ctx, 4, func(r twinex.JournalRecord) error { got = append(got, r.Seq); return nil }); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(got) != "[5 6 7]" {
		t.Fatalf("after Truncate(4): %v", got)
	}
	j.Close()
	if j, err = Open(dir); err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	if j.Last() != 7 {
		t.Fatalf("last %d after reopen", j.Last())
	}
}

// Replaying from before what Truncate dropped fails: the records between
// the store's projection and the journal's start are missing.
func TestReplayRefusesAGap(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	ctx := context.Background()
	for s := uint64(1); s <= 5; s++ {
		if err := j.Append(ctx, []twinex.JournalRecord{{Seq: s, Data: data(s)}}); err != nil {
			t.Fatal(err)
		}
	}
	if err := j.Truncate(ctx, 5); err != nil {
		t.Fatal(err)
	}
	if err := j.Append(ctx, []twinex.JournalRecord{{Seq: 6, Data: data(6)}}); err != nil {
		t.Fatal(err)
	}
	if err := j.Replay(ctx, 5, func(twinex.JournalRecord) error { return nil }); err != nil {
		t.Fatalf("replay from the truncation point: %v", err)
	}
	err = j.Replay(ctx, 2, func(twinex.JournalRecord) error { return nil })
	if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), "missing") {
		t.Fatalf("replay from before the truncation point: %v", err)
	}
}

// A damaged length in the middle of the last segment, with good records
// after it, is damage, not a torn tail; zeros over the start of the last
// record, with nothing readable after, are a torn tail.
func TestDamagedLengthIsNotATear(t *testing.T) {
	dir := t.TempDir()
	path, offs := build(t, dir, 5)
	whole, _ := os.ReadFile(path)
	whole[offs[1]+3] ^= 0x40 // record 2's length, now past the end
	if err := os.WriteFile(path, whole, 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(dir); !errors.Is(err, ErrDamaged) {
		t.Fatalf("Open: %v, want ErrDamaged", err)
	}

	dir = t.TempDir()
	path, offs = build(t, dir, 3)
	whole, _ = os.ReadFile(path)
	copy(whole[offs[2]:offs[2]+8], make([]byte, 8)) // a hole over record 3's head
	if err := os.WriteFile(path, whole, 0o600); err != nil {
		t.Fatal(err)
	}
	j, err := Open(dir)
	if err != nil {
		t.Fatalf("a hole in the last record: %v", err)
	}
	defer j.Close()
	if got := seqs(t, j); fmt.Sprint(got) != "[1 2]" {
		t.Fatalf("records %v", got)
	}
}

// A segment cut shorter while Replay reads it (another process on the same
// directory cutting a tail, a failing disk) is an error, not a crash, on
// the systems where segments are mapped.
func TestSegmentCutWhileRead(t *testing.T) {
	dir := t.TempDir()
	j, err := Open(dir)
	if err != nil {
		t.Fatal(err)
	}
	defer j.Close()
	big := []byte(strings.Repeat("x", 2000))
	for s := uint64(1); s <= 64; s++ {
		if err := j.Append(context.Background(), []twinex.JournalRecord{{Seq: s, Data: big}}); err != nil {
			t.Fatal(err)
		}
	}
	path := j.segs[0].path
	n := 0
	err = j.Replay(context.Background(), 0, func(r twinex.JournalRecord) error {
		if n++; n == 1 {
			if err := os.Truncate(path, headerSize); err != nil {
				t.Fatal(err)
			}
		}
		return nil
	})
	if err == nil {
		t.Skipf("replayed %d records of a segment cut to its header: it was read whole, not mapped, on this system", n)
	}
	if !strings.Contains(err.Error(), "cut shorter") || n > 3 {
		t.Fatalf("after %d records: %v", n, err)
	}
}
