// Package journal is the exchange's command journal on disk: append-only
// segment files in one directory, each record checksummed, one write and
// one sync per append (twinex.Journal).
//
// A segment starts with a header (magic, format version, the journal's id)
// and holds records:
//
//	length  uint32  bytes of data
//	crc     uint32  CRC-32C of seq and data
//	seq     uint64
//	data    [length]byte
//
// all little-endian. A segment is named after the smallest sequence it may
// hold (twenty digits, so names sort), and a new one is started when the
// current one passes SegmentSize or when Truncate drops everything.
//
// Opening reads the last segment whole and the others' headers; Replay
// reads the records it needs and checks them. Segments are mapped into
// memory to be read where the system allows it, not copied. A crash can
// tear only the tail of the last segment (a record not completely written
// when the append had not yet returned): such a tail is cut off at Open
// and never replayed. Anything else that does not read back (a bad checksum with
// records after it, a sequence out of order, a damaged header, a segment
// other than the last that ends early) is an error wrapping ErrDamaged
// that names the file and the byte offset.
package journal

import (
	"context"
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"runtime/debug"
	"sort"
	"strconv"
	"strings"
	"sync"

	"github.com/twinex/twinex"
)

const (
	magic       = "TWXJ"
	version     = 1
	headerSize  = 4 + 2 + 2 + 16 // magic, version, reserved, id
	recordHead  = 4 + 4 + 8      // length, crc, seq
	suffix      = ".journal"
	nameDigits  = 20
	maxDataSize = 1 << 30 // a record larger than this is damage, not data
)

// SegmentSize is the size past which appends go to a new segment file.
const SegmentSize = 64 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// ErrDamaged is wrapped by Open's error when the journal holds damage that
// is not a torn tail.
var ErrDamaged = errors.New("journal damaged")

var _ twinex.Journal = (*File)(nil)

// File is a journal in a directory. Append, Truncate and Last may be called
// from different goroutines; Replay must not run alongside Append.
type File struct {
	dir string
	id  [16]byte

	mu   sync.Mutex
	segs []segment // oldest first; the last is the one appended to
	f    *os.File  // the last segment, open for appending
	size int64     // its size
	last uint64
	buf  []byte
	rbuf []byte // Open's and Replay's read buffer, where segments are not mapped
	bad  error  // set when an append failed: the file may hold part of it
}

type segment struct {
	first uint64 // from the name: every record in it has Seq >= first
	path  string
}

// Open opens the journal in dir, creating the directory (mode 0700) and a
// first segment when there is none. A torn tail is cut off; other damage
// refuses with an error wrapping ErrDamaged.
func Open(dir string) (*File, error) {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	j := &File{dir: dir}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("journal: %w", err)
	}
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), suffix)
		if !ok || len(name) != nameDigits {
			continue
		}
		first, err := strconv.ParseUint(name, 10, 64)
		if err != nil {
			continue
		}
		j.segs = append(j.segs, segment{first: first, path: filepath.Join(dir, e.Name())})
	}
	sort.Slice(j.segs, func(a, b int) bool { return j.segs[a].first < j.segs[b].first })
	if len(j.segs) == 0 {
		if _, err := rand.Read(j.id[:]); err != nil {
			return nil, fmt.Errorf("journal: %w", err)
		}
		if err := j.startSegment(1); err != nil {
			return nil, err
		}
		return j, nil
	}
	// The older segments' records are read (and checked) by Replay; here
	// only their headers, and the last segment whole: its tail may be
	// torn, and its last record is the journal's last.
	for _, s := range j.segs[:len(j.segs)-1] {
		if err := j.checkHeader(s); err != nil {
			return nil, err
		}
	}
	s := j.segs[len(j.segs)-1]
	if s.first > 0 {
		j.last = s.first - 1
	}
	good, err := j.scan(s, true, func(twinex.JournalRecord) error { return nil })
	if err != nil {
		return nil, err
	}
	if err := j.openTail(s, good); err != nil {
		return nil, err
	}
	return j, nil
}

// checkHeader reads segment s's header: a journal segment of this format,
// of the same journal as the others.
func (j *File) checkHeader(s segment) error {
	f, err := os.Open(s.path)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	defer f.Close()
	h := make([]byte, headerSize)
	if _, err := io.ReadFull(f, h); err != nil {
		return fmt.Errorf("%w: %s: the segment header is incomplete; restore the data directory from a backup", ErrDamaged, s.path)
	}
	_, err = j.header(h, s)
	return err
}

// scan reads segment s, calling fn with each record, checking the header,
// the checksums and the order of sequences (updating j.last). It returns
// the offset after the last good record. A torn tail is accepted only when
// tail is set (the last segment); elsewhere, and for damage that is not a
// torn tail, it returns an error wrapping ErrDamaged.
func (j *File) scan(s segment, tail bool, fn func(twinex.JournalRecord) error) (good int64, err error) {
	data, done, err := j.read(s.path)
	if err != nil {
		return 0, fmt.Errorf("journal: %w", err)
	}
	defer done()
	// A mapped segment cut shorter while it is read (by another process
	// on the same directory) or on a failing disk faults on the pages it
	// lost: that is an error, not a crash.
	defer debug.SetPanicOnFault(debug.SetPanicOnFault(true))
	defer func() {
		if r := recover(); r != nil {
			f, ok := r.(interface{ Addr() uintptr })
			if !ok {
				panic(r)
			}
			good, err = 0, fmt.Errorf("journal: reading %s failed (%v): was it cut shorter while open, or is the disk failing?", s.path, f)
		}
	}()
	damaged := func(off int64, what string) error {
		return fmt.Errorf("%w: %s at byte %d: %s (the last good record is sequence %d). "+
			"Twinex will not start on a journal it cannot read whole: restore the data directory from a backup "+
			"(twinex admin restore), or move the journal directory aside to start from the database alone, "+
			"which loses the acknowledged commands after sequence %d",
			ErrDamaged, s.path, off, what, j.last, j.last)
	}
	if len(data) < headerSize {
		if tail {
			// A segment whose header was being written when the
			// machine stopped: nothing was ever appended to it.
			return 0, nil
		}
		return 0, damaged(0, "the segment header is incomplete")
	}
	if _, err := j.header(data[:headerSize], s); err != nil {
		return 0, err
	}
	off := int64(headerSize)
	for off < int64(len(data)) {
		rest := data[off:]
		// A record that does not read back is a torn tail when nothing
		// readable follows it in the last segment: an append (one record,
		// as the core makes them) not all of whose pages reached the disk
		// before the crash, and which was therefore never acknowledged. A
		// readable record after it means it was complete once: damage.
		bad := func(what string) (int64, error) {
			if tail && !j.recordAfter(data, off) {
				return off, nil
			}
			return 0, damaged(off, what)
		}
		if len(rest) < recordHead {
			return bad("the segment ends inside a record")
		}
		n := int64(binary.LittleEndian.Uint32(rest))
		sum := binary.LittleEndian.Uint32(rest[4:])
		seq := binary.LittleEndian.Uint64(rest[8:])
		if n > maxDataSize || recordHead+n > int64(len(rest)) {
			return bad("a record's length runs past the end of the segment")
		}
		body := rest[8 : recordHead+n]
		if crc32.Checksum(body, castagnoli) != sum || n == 0 {
			return bad("a record's checksum does not match")
		}
		if seq < s.first || seq <= j.last {
			return 0, damaged(off, fmt.Sprintf("sequence %d is out of order", seq))
		}
		if err := fn(twinex.JournalRecord{Seq: seq, Data: rest[recordHead : recordHead+n]}); err != nil {
			return 0, err
		}
		j.last = seq
		off += recordHead + n
	}
	return off, nil
}

// recordAfter reports whether a readable record starts anywhere in data
// after off: a whole one, its checksum right, with a sequence after the
// last good one (and not absurdly far after it, which keeps the checksums
// computed over random bytes rare).
func (j *File) recordAfter(data []byte, off int64) bool {
	for p := off + 1; p+recordHead <= int64(len(data)); p++ {
		n := int64(binary.LittleEndian.Uint32(data[p:]))
		seq := binary.LittleEndian.Uint64(data[p+8:])
		if n == 0 || p+recordHead+n > int64(len(data)) || seq <= j.last || seq-j.last > 1<<32 {
			continue
		}
		if crc32.Checksum(data[p+8:p+recordHead+n], castagnoli) == binary.LittleEndian.Uint32(data[p+4:]) {
			return true
		}
	}
	return false
}

// read returns a whole segment's bytes, valid until done is called: the
// file mapped into memory where the system allows it (no copy, and none of
// the fresh memory a copy would fault in, which costs more than the read
// itself), else read into j.rbuf, reused from one segment to the next.
// Records passed to Replay's fn are valid only during the call.
func (j *File) read(path string) (data []byte, done func(), err error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, nil, err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, nil, err
	}
	if data, done, ok := mapFile(f, info.Size()); ok {
		return data, done, nil
	}
	if n := int(info.Size()); cap(j.rbuf) < n {
		j.rbuf = make([]byte, n)
	}
	b := j.rbuf[:info.Size()]
	if _, err := io.ReadFull(f, b); err != nil {
		return nil, nil, err
	}
	return b, func() {}, nil
}

func allZero(b []byte) bool {
	for _, c := range b {
		if c != 0 {
			return false
		}
	}
	return true
}

// openTail opens the last segment for appending, cutting it to good bytes
// (a torn tail) and rewriting its header if the machine stopped before it
// was complete.
func (j *File) openTail(s segment, good int64) error {
	f, err := os.OpenFile(s.path, os.O_RDWR, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	info, err := f.Stat()
	if err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	if good == 0 {
		// The header itself was torn: the segment never held a record.
		if j.id == ([16]byte{}) {
			if _, err := rand.Read(j.id[:]); err != nil {
				f.Close()
				return fmt.Errorf("journal: %w", err)
			}
		}
		if err := f.Truncate(0); err == nil {
			_, err = f.WriteAt(j.newHeader(), 0)
		}
		if err != nil {
			f.Close()
			return fmt.Errorf("journal: %w", err)
		}
		good = headerSize
	} else if info.Size() > good {
		if err := f.Truncate(good); err != nil {
			f.Close()
			return fmt.Errorf("journal: cut the torn tail of %s: %w", s.path, err)
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := f.Seek(good, io.SeekStart); err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	j.f, j.size = f, good
	return nil
}

// header checks a segment's header h: the magic, the version, and the
// journal's id (taken from the first segment read).
func (j *File) header(h []byte, s segment) (int64, error) {
	bad := func(off int64, what string) error {
		return fmt.Errorf("%w: %s at byte %d: %s; restore the data directory from a backup", ErrDamaged, s.path, off, what)
	}
	if string(h[:4]) != magic {
		return 0, bad(0, "not a journal segment")
	}
	if v := binary.LittleEndian.Uint16(h[4:]); v != version {
		return 4, bad(4, fmt.Sprintf("format version %d, this binary reads version %d", v, version))
	}
	var id [16]byte
	copy(id[:], h[8:headerSize])
	if j.id == ([16]byte{}) {
		j.id = id
	} else if id != j.id {
		return 8, bad(8, "the segment belongs to another journal")
	}
	return headerSize, nil
}

// newHeader is the header of a new segment of this journal.
func (j *File) newHeader() []byte {
	h := make([]byte, headerSize)
	copy(h, magic)
	binary.LittleEndian.PutUint16(h[4:], version)
	copy(h[8:], j.id[:])
	return h
}

// startSegment starts a new segment for sequences from first on and makes
// it the one appended to, durably (the file and its directory entry).
func (j *File) startSegment(first uint64) error {
	path := filepath.Join(j.dir, fmt.Sprintf("%0*d%s", nameDigits, first, suffix))
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_TRUNC, 0o600)
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	if _, err := f.Write(j.newHeader()); err == nil {
		err = f.Sync()
	}
	if err == nil {
		err = syncDir(j.dir)
	}
	if err != nil {
		f.Close()
		return fmt.Errorf("journal: %w", err)
	}
	if j.f != nil {
		j.f.Close()
	}
	j.f, j.size = f, headerSize
	j.segs = append(j.segs, segment{first: first, path: path})
	return nil
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}

// Append writes recs in one write and syncs the file.
func (j *File) Append(ctx context.Context, recs []twinex.JournalRecord) error {
	if len(recs) == 0 {
		return nil
	}
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.bad != nil {
		return j.bad
	}
	if j.size >= SegmentSize {
		if err := j.startSegment(j.last + 1); err != nil {
			return err
		}
	}
	b := j.buf[:0]
	last := j.last
	for _, r := range recs {
		if r.Seq <= last {
			return fmt.Errorf("journal: sequence %d after %d", r.Seq, last)
		}
		if len(r.Data) == 0 || len(r.Data) > maxDataSize {
			return fmt.Errorf("journal: a record of %d bytes", len(r.Data))
		}
		var h [recordHead]byte
		binary.LittleEndian.PutUint32(h[0:], uint32(len(r.Data)))
		binary.LittleEndian.PutUint64(h[8:], r.Seq)
		crc := crc32.Update(crc32.Checksum(h[8:], castagnoli), castagnoli, r.Data)
		binary.LittleEndian.PutUint32(h[4:], crc)
		b = append(b, h[:]...)
		b = append(b, r.Data...)
		last = r.Seq
	}
	j.buf = b
	_, err := j.f.Write(b)
	if err == nil {
		err = datasync(j.f)
	}
	if err != nil {
		j.bad = j.undo(err)
		return j.bad
	}
	j.size += int64(len(b))
	j.last = last
	if cap(j.buf) > 4<<20 {
		j.buf = nil // don't keep a huge batch's buffer
	}
	return nil
}

// undo takes a failed append back: the file is cut to where it was and
// synced, so that none of the append can be replayed after a restart. If
// that fails too, the append may or may not survive: the error wraps
// twinex.ErrOutcomeUnknown.
func (j *File) undo(cause error) error {
	err := j.f.Truncate(j.size)
	if err == nil {
		_, err = j.f.Seek(j.size, io.SeekStart)
	}
	if err == nil {
		err = datasync(j.f)
	}
	if err != nil {
		return fmt.Errorf("journal: append: %v; cutting it off again: %v: %w", cause, err, twinex.ErrOutcomeUnknown)
	}
	return fmt.Errorf("journal: append (cut off again, nothing of it kept): %w", cause)
}

// Replay calls fn with every record after the given sequence, in order.
func (j *File) Replay(ctx context.Context, after uint64, fn func(twinex.JournalRecord) error) error {
	j.mu.Lock()
	segs := append([]segment(nil), j.segs...)
	j.mu.Unlock()
	if len(segs) > 0 && segs[0].first > after+1 {
		// The records between are gone: the store is older than the
		// journal's start (restored or replaced without its journal), or
		// the journal was truncated past what the store made durable.
		return fmt.Errorf("%w: the journal in %s starts at sequence %d, but the database holds the exchange only up to "+
			"sequence %d: the records between are missing. Start with the database this journal was written with, or "+
			"restore the data directory from a backup", ErrDamaged, j.dir, segs[0].first, after)
	}
	r := &File{dir: j.dir, id: j.id}
	for i, s := range segs {
		if i+1 < len(segs) && segs[i+1].first <= after+1 {
			continue // every record of s is at or before after
		}
		_, err := r.scan(s, i == len(segs)-1, func(rec twinex.JournalRecord) error {
			if err := ctx.Err(); err != nil {
				return err
			}
			if rec.Seq <= after {
				return nil
			}
			return fn(rec)
		})
		if err != nil {
			return err
		}
	}
	return nil
}

// Truncate deletes the segments whose records all have sequences up to
// through. When that is every record, the segment being appended to is
// replaced by a new, empty one first.
func (j *File) Truncate(ctx context.Context, through uint64) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.bad != nil {
		return j.bad
	}
	if through >= j.last && j.size > headerSize {
		if err := j.startSegment(j.last + 1); err != nil {
			return err
		}
	}
	keep := j.segs[:0]
	var removed bool
	for i, s := range j.segs {
		if i+1 < len(j.segs) && j.segs[i+1].first <= through+1 {
			if err := os.Remove(s.path); err != nil && !errors.Is(err, os.ErrNotExist) {
				return fmt.Errorf("journal: %w", err)
			}
			removed = true
			continue
		}
		keep = append(keep, s)
	}
	j.segs = keep
	if removed {
		return syncDir(j.dir)
	}
	return nil
}

// Last returns the sequence of the last record appended, or 0.
func (j *File) Last() uint64 {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.last
}

// ID returns the journal's id, the same in every segment.
func (j *File) ID() string { return hex.EncodeToString(j.id[:]) }

// Segments returns how many segment files the journal has.
func (j *File) Segments() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return len(j.segs)
}

// Close closes the segment being appended to.
func (j *File) Close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	if err != nil {
		return fmt.Errorf("journal: %w", err)
	}
	return nil
}
