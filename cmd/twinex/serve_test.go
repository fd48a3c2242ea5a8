package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestServeUsageHidesStorePassword: the usage printed for -h or a bad flag
// never shows TWINEX_STORE, whose URL may hold the database's password
// (a flag's default is printed with it, and stderr goes to the logs).
func TestServeUsageHidesStorePassword(t *testing.T) {
	t.Setenv("TWINEX_STORE", "postgres://twinex:hunter2-secret@db.example:5432/twinex")
	for _, args := range [][]string{{"serve", "-h"}, {"serve", "--no-such-flag"}} {
		var out, errb bytes.Buffer
		run(context.Background(), args, &out, &errb)
		if !strings.Contains(errb.String(), "--store") && !strings.Contains(errb.String(), "-store") {
			t.Fatalf("%v: no usage printed: %s", args, errb.String())
		}
		if s := out.String() + errb.String(); strings.Contains(s, "hunter2-secret") {
			t.Errorf("%v: the usage shows the store's password:\n%s", args, s)
		}
	}
}

// TestServeReadsStoreFromEnvironment: TWINEX_STORE still chooses the store
// when --store is not given, and --store wins over it.
func TestServeReadsStoreFromEnvironment(t *testing.T) {
	t.Setenv("TWINEX_STORE", "mysql://from-env")
	var out, errb bytes.Buffer
	run(context.Background(), []string{"serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--mode", "production"}, &out, &errb)
	if !strings.Contains(errb.String(), "mysql://from-env") {
		t.Errorf("TWINEX_STORE was not used: %s", errb.String())
	}
	errb.Reset()
	run(context.Background(), []string{"serve", "--listen", "127.0.0.1:0", "--data", t.TempDir(), "--mode", "production", "--store", "mysql://from-flag"}, &out, &errb)
	if !strings.Contains(errb.String(), "mysql://from-flag") {
		t.Errorf("--store did not win over TWINEX_STORE: %s", errb.String())
	}
}
