package postgres_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/twinex/twinex"
)

// BenchmarkAddActivity writes the activity log in batches of the sizes the
// recorder produces (up to 4096 records), from 20 keys over a few
// minutes, as under load.
func BenchmarkAddActivity(b *testing.B) {
	for _, n := range []int{1, 64, 4096} {
		b.Run(fmt.Sprint("batch=", n), func(b *testing.B) {
			db := open(b, pg.Schema(b))
			defer db.Close()
			ctx := context.Background()
			recs := make([]twinex.Activity, n)
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				for j := range recs {
					t := int64(i*n+j) * 1e6
					recs[j] = twinex.Activity{Time: t, KeyID: fmt.Sprint("account-", j%20), UserID: int64(1 + j%20), AccountID: 100,
						IP: "192.0.2.1", Method: "POST", Path: "/v1/order/new", Status: 200, Latency: 120, Counted: true}
				}
				if err := db.AddActivity(ctx, recs); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.N*n)/b.Elapsed().Seconds(), "records/s")
		})
	}
}
