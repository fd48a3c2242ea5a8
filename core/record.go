package core

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sort"

	"github.com/twinex/twinex"
	"github.com/twinex/twinex/engine"
)

// recordVersion is the format of a journal record's data. A record is:
//
//	version   byte
//	commands  uvarint count, then each command (encodeCommand)
//	key uses  uvarint count, then each: id, last nonce, last used, last ip, seq
//	replays   uvarint count, then each: key id, sig, until
//	meta      uvarint count, then each: key, value (sorted by key)
//
// Strings are a uvarint length and the bytes; integers are zigzag varints,
// whose encoding does not depend on the integer's width, so amounts can
// widen past 64 bits without a new version. Markets are named by symbol,
// not by their position in the configuration.
const recordVersion = 1

// encodeRecord appends the journal data of a batch: its commands in the
// order they were applied (rejected ones included: replaying the same
// commands on the same state gives the same outcome) and the inputs of the
// batch that are not commands.
func encodeRecord(dst []byte, ms *twinex.Markets, cmds []*engine.Command, b *twinex.Batch) []byte {
	dst = append(dst, recordVersion)
	dst = binary.AppendUvarint(dst, uint64(len(cmds)))
	for _, c := range cmds {
		dst = encodeCommand(dst, ms, c)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.KeyUses)))
	for _, u := range b.KeyUses {
		dst = appendString(dst, u.ID)
		dst = appendString(dst, u.LastNonce)
		dst = binary.AppendVarint(dst, u.LastUsed)
		dst = appendString(dst, u.LastIP)
		dst = binary.AppendVarint(dst, u.Seq)
	}
	dst = binary.AppendUvarint(dst, uint64(len(b.KeyReplays)))
	for _, r := range b.KeyReplays {
		dst = appendString(dst, r.KeyID)
		dst = appendString(dst, r.Sig)
		dst = binary.AppendVarint(dst, r.Until)
	}
	keys := make([]string, 0, len(b.Meta))
	for k := range b.Meta {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	dst = binary.AppendUvarint(dst, uint64(len(keys)))
	for _, k := range keys {
		dst = appendString(dst, k)
		dst = appendString(dst, b.Meta[k])
	}
	return dst
}

// encodeCommand appends every field of c that a command kind can use.
func encodeCommand(dst []byte, ms *twinex.Markets, c *engine.Command) []byte {
	dst = append(dst, byte(c.Kind))
	dst = binary.AppendVarint(dst, c.Time)
	dst = binary.AppendVarint(dst, c.AccountID)
	dst = appendString(dst, c.Session)
	dst = appendString(dst, c.ClientOrderID)
	market := ""
	if (c.Kind == engine.Place || c.Kind == engine.SetMarketStatus) && c.Market >= 0 && c.Market < len(ms.List) {
		market = ms.List[c.Market].Symbol // a market out of range was refused; it replays refused alike
	}
	dst = appendString(dst, market)
	dst = append(dst, byte(c.Side), byte(c.Type), byte(c.Option))
	dst = binary.AppendVarint(dst, c.Price)
	dst = binary.AppendVarint(dst, c.StopPrice)
	dst = binary.AppendVarint(dst, c.Amount)
	dst = binary.AppendVarint(dst, c.OrderID)
	dst = appendString(dst, c.Reason)
	dst = appendString(dst, c.Currency)
	dst = binary.AppendVarint(dst, c.Funds)
	dst = binary.AppendVarint(dst, c.Fee)
	dst = binary.AppendVarint(dst, c.ToAccount)
	dst = appendString(dst, c.Destination)
	dst = appendString(dst, c.TxHash)
	dst = appendString(dst, c.ClientID)
	dst = appendString(dst, c.Method)
	dst = binary.AppendVarint(dst, c.Fees.MakerBps)
	dst = binary.AppendVarint(dst, c.Fees.TakerBps)
	dst = appendString(dst, string(c.Status))
	return dst
}

func appendString(dst []byte, s string) []byte {
	dst = binary.AppendUvarint(dst, uint64(len(s)))
	return append(dst, s...)
}

// record is a decoded journal record.
type record struct {
	cmds    []engine.Command
	uses    []twinex.KeyUse
	replays []twinex.KeyReplay
	meta    map[string]string
}

var errShort = errors.New("record ends early")

// decoder reads a record's data; the first error sticks.
type decoder struct {
	b   []byte
	err error
	in  *interner // for common strings; nil: every string is a new copy
}

func (d *decoder) uvarint() uint64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	if d.err != nil {
		return 0
	}
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.err = errShort
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.err = errShort
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) string() string {
	n := d.uvarint()
	if d.err != nil {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

// common reads a string that is likely to repeat from command to command.
func (d *decoder) common() string {
	if d.in == nil {
		return d.string()
	}
	n := d.uvarint()
	if d.err != nil || n == 0 {
		return ""
	}
	if n > uint64(len(d.b)) {
		d.err = errShort
		return ""
	}
	s := d.in.get(d.b[:n])
	d.b = d.b[n:]
	return s
}

// count reads a count of items of at least min bytes each, refusing one
// the rest of the data cannot hold.
func (d *decoder) count(min int) int {
	n := d.uvarint()
	if d.err == nil && n > uint64(len(d.b)/min) {
		d.err = fmt.Errorf("a count of %d is more than the record holds", n)
		return 0
	}
	return int(n)
}

// decodeRecord reads a record's data into a new record.
func decodeRecord(data []byte, ms *twinex.Markets) (*record, error) {
	r := &record{}
	if err := r.decode(data, ms, nil); err != nil {
		return nil, err
	}
	return r, nil
}

// decode reads a record's data into r, reusing its slices: a replay
// decodes a million commands, and a fresh slice per record is most of its
// garbage. Markets are looked up by symbol; a record naming a market that
// is not configured is an error. Strings that repeat from command to
// command (sessions, currencies, methods, reasons) come from in, when
// given, instead of a new copy each.
func (r *record) decode(data []byte, ms *twinex.Markets, in *interner) error {
	d := &decoder{b: data, in: in}
	if v := d.byte(); d.err == nil && v != recordVersion {
		return fmt.Errorf("record format version %d, this binary reads version %d", v, recordVersion)
	}
	n := d.count(20)
	r.cmds = slices.Grow(r.cmds[:0], n)[:n]
	clear(r.cmds)
	r.uses, r.replays, r.meta = r.uses[:0], r.replays[:0], nil
	for i := range r.cmds {
		c := &r.cmds[i]
		c.Kind = engine.CommandKind(d.byte())
		c.Time = d.varint()
		c.AccountID = d.varint()
		c.Session = d.common()
		c.ClientOrderID = d.string()
		if sym := d.common(); sym != "" {
			c.Market = ms.Index(sym)
			if c.Market < 0 && d.err == nil {
				d.err = fmt.Errorf("a command names market %q, which is not configured", sym)
			}
		} else if c.Kind == engine.Place || c.Kind == engine.SetMarketStatus {
			c.Market = -1 // it named no market the engine knew, and was refused
		}
		c.Side, c.Type, c.Option = twinex.Side(d.byte()), twinex.OrderType(d.byte()), twinex.Option(d.byte())
		c.Price = d.varint()
		c.StopPrice = d.varint()
		c.Amount = d.varint()
		c.OrderID = d.varint()
		c.Reason = d.common()
		c.Currency = d.common()
		c.Funds = d.varint()
		c.Fee = d.varint()
		c.ToAccount = d.varint()
		c.Destination = d.string()
		c.TxHash = d.string()
		c.ClientID = d.string()
		c.Method = d.common()
		c.Fees.MakerBps = d.varint()
		c.Fees.TakerBps = d.varint()
		c.Status = twinex.MarketStatus(d.common())
	}
	n = d.count(5)
	for range n {
		u := twinex.KeyUse{ID: d.common(), LastNonce: d.string(), LastUsed: d.varint(), LastIP: d.common(), Seq: d.varint()}
		r.uses = append(r.uses, u)
	}
	n = d.count(3)
	for range n {
		r.replays = append(r.replays, twinex.KeyReplay{KeyID: d.common(), Sig: d.string(), Until: d.varint()})
	}
	n = d.count(2)
	if n > 0 {
		r.meta = make(map[string]string, n)
	}
	for range n {
		k := d.string()
		r.meta[k] = d.string()
	}
	if d.err == nil && len(d.b) > 0 {
		d.err = fmt.Errorf("%d bytes after the record", len(d.b))
	}
	return d.err
}

// decoded is a journal record read and decoded ahead of its replay.
type decoded struct {
	seq uint64
	r   record
}

// readAhead replays j after seq: a goroutine of its own reads, checks
// (check refuses a record by returning an error) and decodes the records,
// and apply takes them in order, so that reading and decoding the journal
// overlap applying it. A record is reused once apply has returned. It
// returns the first error, after apply has taken every record before it.
func readAhead(ctx context.Context, j twinex.Journal, seq uint64, ms *twinex.Markets, check func(twinex.JournalRecord) error, apply func(*decoded)) error {
	const ahead = 8
	free := make(chan *decoded, ahead)
	for range ahead {
		free <- &decoded{}
	}
	work := make(chan *decoded, ahead)
	errc := make(chan error, 1)
	go func() {
		defer close(work)
		var in interner
		errc <- j.Replay(ctx, seq, func(rec twinex.JournalRecord) error {
			if err := check(rec); err != nil {
				return err
			}
			d := <-free
			if err := d.r.decode(rec.Data, ms, &in); err != nil {
				return fmt.Errorf("journal record %d: %w; restore the data directory from a backup", rec.Seq, err)
			}
			d.seq = rec.Seq
			work <- d
			return nil
		})
	}()
	for d := range work {
		apply(d)
		free <- d
	}
	return <-errc
}

// interner hands out one copy of each short string it has seen, so that
// the values a replay repeats a million times are allocated once.
type interner struct {
	m map[string]string
}

// maxInterned bounds what an interner keeps: values that repeat are few
// (a key's session, a currency), and a journal full of distinct ones must
// not grow it without end.
const maxInterned = 4096

func (in *interner) get(b []byte) string {
	if s, ok := in.m[string(b)]; ok { // no allocation for the lookup
		return s
	}
	s := string(b)
	if len(b) <= 64 && len(in.m) < maxInterned {
		if in.m == nil {
			in.m = map[string]string{}
		}
		in.m[s] = s
	}
	return s
}
