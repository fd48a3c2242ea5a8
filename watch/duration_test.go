package watch

import (
	"testing"
	"time"
)

func TestDurationText(t *testing.T) {
	for d, want := range map[time.Duration]string{
		10 * time.Minute: "10 minutes", time.Minute: "1 minute", 24 * time.Hour: "24 hours",
		time.Hour: "1 hour", 90 * time.Second: "90 seconds", 1500 * time.Millisecond: "2 seconds",
	} {
		if got := durationText(d); got != want {
			t.Errorf("durationText(%v) = %q, want %q", d, got, want)
		}
	}
}
