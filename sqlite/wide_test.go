package sqlite_test

import (
	"context"
	"math"
	"path/filepath"
	"testing"

	"github.com/twinex/twinex"
)

// TestMigrationWidensBalances takes a database back to the schema before
// migration 0012 (balances, supply and candle quote volumes in BIGINT
// columns), fills it with
// values at int64's edges, and reopens it: 0012 converts every row exactly
// to the decimal TEXT that wide values are stored as.
func TestMigrationWidensBalances(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twinex.db")
	open(t, path).Close()

	raw := rawDB(t, path)
	for _, q := range []string{
		`DELETE FROM schema_migrations WHERE version = 12`,
		`DROP TABLE balances`,
		`DROP TABLE supply`,
		// As 0001_exchange.sql made them.
		`CREATE TABLE balances (
			account_id BIGINT NOT NULL,
			currency   TEXT   NOT NULL,
			total      BIGINT NOT NULL,
			held       BIGINT NOT NULL,
			PRIMARY KEY (account_id, currency)
		) WITHOUT ROWID`,
		`CREATE TABLE supply (currency TEXT PRIMARY KEY, net BIGINT NOT NULL)`,
		`DROP TABLE candles`,
		`CREATE TABLE candles (
			market TEXT NOT NULL, timeframe TEXT NOT NULL, start BIGINT NOT NULL,
			open BIGINT NOT NULL, high BIGINT NOT NULL, low BIGINT NOT NULL, close BIGINT NOT NULL,
			volume BIGINT NOT NULL, quote_volume BIGINT NOT NULL,
			PRIMARY KEY (market, timeframe, start)
		) WITHOUT ROWID`,
		`INSERT INTO candles VALUES ('btcusd', '1m', 60000000000, 1, 2, 1, 2, 3, 9223372036854775807)`,
	} {
		if _, err := raw.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	rows := []twinex.Balance{
		{AccountID: 100, Currency: "USD", Total: twinex.I128(math.MaxInt64), Held: twinex.I128(1 << 62)},
		{AccountID: 101, Currency: "USD", Total: twinex.I128(0), Held: twinex.I128(0)},
		{AccountID: 102, Currency: "BTC", Total: twinex.I128(math.MinInt64), Held: twinex.I128(-1)},
	}
	for _, b := range rows {
		tot, _ := b.Total.Int64()
		held, _ := b.Held.Int64()
		if _, err := raw.Exec(`INSERT INTO balances VALUES (?, ?, ?, ?)`, b.AccountID, b.Currency, tot, held); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := raw.Exec(`INSERT INTO supply VALUES ('USD', ?), ('BTC', 5)`, int64(math.MaxInt64)); err != nil {
		t.Fatal(err)
	}
	raw.Close()

	db := open(t, path)
	defer db.Close()
	st, err := db.LoadState(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(st.Balances) != len(rows) {
		t.Fatalf("balances after 0012: %+v", st.Balances)
	}
	for i, b := range st.Balances { // ordered by account and currency, like rows
		if b != rows[i] {
			t.Errorf("balance after 0012: %+v, want %+v", b, rows[i])
		}
	}
	want := []twinex.Supply{{Currency: "BTC", Net: twinex.I128(5)}, {Currency: "USD", Net: twinex.I128(math.MaxInt64)}}
	if len(st.Supply) != 2 || st.Supply[0] != want[0] || st.Supply[1] != want[1] {
		t.Errorf("supply after 0012: %+v, want %+v", st.Supply, want)
	}

	cs, err := db.Candles(context.Background(), twinex.CandleQuery{Market: "btcusd", Timeframe: "1m"})
	wantC := twinex.Candle{Market: "btcusd", Timeframe: "1m", Start: 60e9, Open: 1, High: 2, Low: 1, Close: 2, Volume: 3, QuoteVolume: twinex.I128(math.MaxInt64)}
	if err != nil || len(cs) != 1 || cs[0] != wantC {
		t.Errorf("candles after 0012: %+v, %v; want %+v", cs, err, wantC)
	}

	// New values past int64 are stored as text, exactly.
	wide := twinex.I128(math.MaxInt64).Add64(math.MaxInt64).Add64(2) // 2^64
	if err := db.Commit(context.Background(), &twinex.Batch{
		Balances: []twinex.Balance{{AccountID: 100, Currency: "USD", Total: wide, Held: wide}},
	}); err != nil {
		t.Fatal(err)
	}
	var typ, text string
	if err := rawDB(t, path).QueryRow(`SELECT typeof(total), total FROM balances WHERE account_id = 100`).Scan(&typ, &text); err != nil {
		t.Fatal(err)
	}
	if typ != "text" || text != "18446744073709551616" {
		t.Errorf("stored %s %q, want text 18446744073709551616", typ, text)
	}
}

// TestWideStoredAsText commits wide values that fit an int64, which are
// bound as integers, and checks that the TEXT columns hold them as the
// same decimal text as values past int64: inserted and upserted alike.
func TestWideStoredAsText(t *testing.T) {
	path := filepath.Join(t.TempDir(), "twinex.db")
	db := open(t, path)
	defer db.Close()
	ctx := context.Background()
	for _, v := range []int64{0, -1, math.MinInt64, 7} {
		if err := db.Commit(ctx, &twinex.Batch{
			Balances: []twinex.Balance{{AccountID: 100, Currency: "usd", Total: twinex.I128(v), Held: twinex.I128(v)}},
			Supply:   []twinex.Supply{{Currency: "usd", Net: twinex.I128(v)}},
			Candles:  []twinex.Candle{{Market: "btcusd", Timeframe: "1m", Start: 60e9, QuoteVolume: twinex.I128(v)}},
		}); err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{
			`SELECT typeof(total), total FROM balances`, `SELECT typeof(held), held FROM balances`,
			`SELECT typeof(net), net FROM supply`, `SELECT typeof(quote_volume), quote_volume FROM candles`,
		} {
			var typ, text string
			if err := rawDB(t, path).QueryRow(q).Scan(&typ, &text); err != nil {
				t.Fatal(err)
			}
			if want := twinex.I128(v).String(); typ != "text" || text != want {
				t.Errorf("%s: %s %q, want text %q", q, typ, text, want)
			}
		}
	}
}
