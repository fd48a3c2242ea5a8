package app

import (
	"strings"
	"testing"
)

// TestRedact: no password of a store URL reaches the logs or /healthz,
// wherever the URL carries it.
func TestRedact(t *testing.T) {
	for _, u := range []string{
		"postgres://twinex:s3cret-pw@db:5432/twinex",
		"postgres://twinex@db/twinex?password=s3cret-pw",
		"postgresql://twinex@db/twinex?sslmode=verify-full&sslkey=/k.pem&sslpassword=s3cret-pw",
		"postgres://twinex@db/twinex?PassWord=s3cret-pw",
	} {
		got := Redact(u)
		if strings.Contains(got, "s3cret-pw") || !strings.Contains(got, "db") {
			t.Errorf("Redact(%q) = %q", u, got)
		}
	}
}
