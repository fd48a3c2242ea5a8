package twinex_test

import (
	"bufio"
	"errors"
	"fmt"
	"go/parser"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
)

// The dependency rules of STYLE habit 2: dependencies point inward. The
// test reads the import declarations of every .go file of the module with
// go/parser instead of running `go list`, so it needs no go command and
// sees the files of every GOOS and build tag.
//
// It checks direct imports. That is enough for the module's own packages:
// each package a restricted package may import is restricted itself. It is
// not meant for the standard library's own dependencies (fmt imports os).

// fileImport is one import declaration.
type fileImport struct {
	pkg  string // package directory relative to the module root, "." for the root
	file string // file path relative to the module root
	line int
	path string
	test bool // in a _test.go file
}

// importRule is one rule: forbid reports why a package may not import path
// ("" when it may).
type importRule struct {
	name   string
	tests  bool // also check _test.go files
	forbid func(mod string, im fileImport) string
}

// pure are the packages that are pure state driven by stamped messages,
// with what of the module each may import.
var pure = map[string][]string{
	"engine":     {"", "/ledger"},
	"ledger":     {""},
	"marketdata": {""},
}

// pureBans are standard packages the pure packages must not import, with
// the reason. A ban covers the package and those under it.
var pureBans = []struct{ prefix, reason string }{
	{"database/sql", "no store: the sequencer commits what the engine produces; the engine is tested without a database"},
	{"net", "no network I/O: the API and the dashboard are adapters around the engine, not inside it"},
	{"os", "no files, environment or processes: state comes in through Restore and commands only"},
	{"syscall", "no system calls: state comes in through Restore and commands only"},
	{"time", "the engine must not read the clock: the sequencer stamps each command once, so replays and tests are deterministic (habit 6)"},
	{"log", "no global logger: pure code returns errors and its caller logs them (habit 5)"},
	{"math/rand", "no hidden randomness: the same commands must produce the same events"},
	{"crypto/rand", "no hidden randomness: the same commands must produce the same events"},
}

// drivenBy are packages driven by their caller's clock and commands, with
// what of the module each may import.
var drivenBy = map[string][]string{
	"sim":      {"", "/engine"},
	"scenario": {"", "/engine", "/fault", "/sim"},
}

// drivers are database drivers, which only the store adapters may import.
var drivers = []string{"database/sql/driver", "modernc.org/sqlite", "github.com/mattn/go-sqlite3", "github.com/jackc/pgx", "github.com/lib/pq"}

// storeDirs are the adapters allowed to import drivers.
var storeDirs = []string{"sqlite", "postgres"}

// testHelpers are the packages only tests may import.
var testHelpers = []string{"storetest", "mail/mailtest", "postgres/pgtest"}

var importRules = []importRule{
	{"the root imports only the standard library", false, func(mod string, im fileImport) string {
		if im.pkg == "." && !isStd(im.path) {
			return "the domain is shared by every adapter, so it must not drag a database, web or third-party dependency into all of them (habit 1)"
		}
		return ""
	}},
	{"the root imports no database or HTTP package", false, func(mod string, im fileImport) string {
		if im.pkg != "." {
			return ""
		}
		if under(im.path, "database/sql") || under(im.path, "net/http") {
			return "storage and HTTP are adapters that depend on the domain, never the other way round (habit 2)"
		}
		return ""
	}},
	{"the pure packages import only the standard library and the domain", false, func(mod string, im fileImport) string {
		allowed, ok := pure[im.pkg]
		if !ok || isStd(im.path) {
			return ""
		}
		for _, a := range allowed {
			if im.path == mod+a {
				return ""
			}
		}
		return "the engine, ledger and market data are pure state: they may depend on the domain (and the engine on the ledger) and on nothing that does I/O"
	}},
	{"the pure packages import no I/O, clock, logger or randomness", false, func(mod string, im fileImport) string {
		if _, ok := pure[im.pkg]; !ok {
			return ""
		}
		for _, b := range pureBans {
			if under(im.path, b.prefix) {
				return b.reason
			}
		}
		return ""
	}},
	{"the simulator and the scenarios do no I/O and reach no adapter", false, func(mod string, im fileImport) string {
		allowed, ok := drivenBy[im.pkg]
		if !ok {
			return ""
		}
		for _, b := range []string{"net", "database/sql", "os", "syscall"} {
			if under(im.path, b) {
				return "the simulator and the scenario player are state machines driven by their caller (Step, Observe, Apply, Play with a clock): the app wires them to the core, the clock and the admin API, so that tests run them in simulated time"
			}
		}
		if isStd(im.path) {
			return ""
		}
		for _, a := range allowed {
			if im.path == mod+a {
				return ""
			}
		}
		return "the simulator and the scenario player act only through engine commands and the fault rules they are given, never on a store or an HTTP adapter"
	}},
	{"only the stores import database drivers", false, func(mod string, im fileImport) string {
		for _, d := range storeDirs {
			if under(im.pkg, d) {
				return ""
			}
		}
		for _, d := range drivers {
			if under(im.path, d) {
				return "a database driver belongs to its store adapter; everything else goes through twinex.ExchangeStore so that both stores stay interchangeable (habit 7)"
			}
		}
		return ""
	}},
	{"the dashboard reaches money only through the exchange service", false, func(mod string, im fileImport) string {
		if im.pkg != "web" {
			return ""
		}
		for _, p := range []string{"/engine", "/ledger", "/core"} {
			if im.path == mod+p {
				return "balances, orders, fills and transfers have one home, exchange/, which the API calls too; the dashboard must not build commands or read the engine itself (a second copy of a rule)"
			}
		}
		return ""
	}},
	{"the feed hub imports no network, HTTP or WebSocket package", false, func(mod string, im fileImport) string {
		if im.pkg != "feed" {
			return ""
		}
		if under(im.path, "net") || under(im.path, "github.com/gorilla/websocket") || under(im.path, mod+"/api") || under(im.path, mod+"/web") {
			return "the hub decides what each subscriber gets and when one is too slow; sockets and Gemini's wire shapes belong to the api adapter, so the hub is tested without a network"
		}
		return ""
	}},
	{"only the adapters that speak WebSocket import the WebSocket library", false, func(mod string, im fileImport) string {
		if !under(im.path, "github.com/gorilla/websocket") {
			return ""
		}
		for _, d := range []string{"api", "gemini", "cmd", "bench"} {
			if under(im.pkg, d) {
				return ""
			}
		}
		return "the WebSocket framing is an adapter detail: the domain, the core and the hub see typed messages only"
	}},
	{"the dashboard does not import the API adapter", false, func(mod string, im fileImport) string {
		if under(im.pkg, "web") && under(im.path, mod+"/api") {
			return "the dashboard and the Gemini API are two adapters over the same services (accounts, exchange, keys); a rule the dashboard needs from the API belongs in a service, and wire data the app hands over"
		}
		return ""
	}},
	{"the API reaches the engine only through the core", false, func(mod string, im fileImport) string {
		if under(im.pkg, "api") && under(im.path, mod+"/engine") {
			return "the sequencer owns the books and balances: the API sends commands and reads balances, orders and book levels through core (core/reads.go), so that no adapter runs engine code off the sequencer or depends on how the engine keeps its state"
		}
		return ""
	}},
	{"the Gemini client imports nothing of the server", false, func(mod string, im fileImport) string {
		if under(im.pkg, "gemini") && under(im.path, mod) && !under(im.path, mod+"/gemini") {
			return "programs import gemini/ to talk to Gemini or Twinex; the server's answers are built from its structs, never the other way round, so that a client does not compile the exchange in"
		}
		return ""
	}},
	{"the API description imports only the standard library", false, func(mod string, im fileImport) string {
		if under(im.pkg, "openapi") && !isStd(im.path) && !under(im.path, mod+"/openapi") {
			return "openapi/ is a document both adapters read (the API serves it, the dashboard renders it) and its tests validate against; importing an adapter or a library would tie the two adapters together through it"
		}
		return ""
	}},
	{"only the metrics adapter imports Prometheus", false, func(mod string, im fileImport) string {
		if under(im.path, "github.com/prometheus") && !under(im.pkg, "metrics") {
			return "metric names, labels and their bounds have one home (metrics/); the rest reports figures through plain hooks (core.Config.OnBatch, activity.Recorder.OnBatch, watch.Watcher.OnRaise), so that no package's tests need a registry"
		}
		return ""
	}},
	{"the stores' test helpers are imported only by tests", false, func(mod string, im fileImport) string {
		for _, h := range testHelpers {
			if im.path == mod+"/"+h && !under(im.pkg, h) {
				return "the contract suites and pgtest (which reads TWINEX_TEST_POSTGRES and creates and drops schemas) are for tests; a server that imported them would carry test code and read test settings"
			}
		}
		return ""
	}},
	{"nothing imports unsafe or uses cgo", true, func(mod string, im fileImport) string {
		switch im.path {
		case "unsafe":
			return "unsafe gives up the memory and type safety the money arithmetic relies on"
		case "C":
			return "cgo breaks static and cross-compiled builds; the SQLite driver is pure Go for this reason"
		}
		return ""
	}},
}

// under reports whether path is prefix or a path below it.
func under(path, prefix string) bool {
	return path == prefix || strings.HasPrefix(path, prefix+"/")
}

// isStd reports whether an import path is in the standard library: like the
// go command, one whose first element has no dot. "C" is cgo, not a package.
func isStd(path string) bool {
	if path == "C" {
		return false
	}
	first, _, _ := strings.Cut(path, "/")
	return !strings.Contains(first, ".")
}

// modulePath reads the module line of root/go.mod.
func modulePath(root string) (string, error) {
	f, err := os.Open(filepath.Join(root, "go.mod"))
	if err != nil {
		return "", err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
			if p, err := strconv.Unquote(strings.TrimSpace(rest)); err == nil {
				return p, nil
			}
			return strings.TrimSpace(rest), nil
		}
	}
	if err := sc.Err(); err != nil {
		return "", err
	}
	return "", errors.New("go.mod has no module line")
}

// scanImports returns the import declarations of every .go file of the
// module at root, skipping what the go command skips (testdata, vendor,
// names starting with . or _) and nested modules.
func scanImports(root string) ([]fileImport, error) {
	var out []fileImport
	fset := token.NewFileSet()
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		name := d.Name()
		if d.IsDir() {
			if path == root {
				return nil
			}
			if name == "testdata" || name == "vendor" || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
				return filepath.SkipDir
			}
			if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(name, ".go") || strings.HasPrefix(name, ".") || strings.HasPrefix(name, "_") {
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil {
			return err
		}
		f, err := parser.ParseFile(fset, path, nil, parser.ImportsOnly)
		if err != nil {
			return fmt.Errorf("parse: %w", err)
		}
		for _, spec := range f.Imports {
			p, err := strconv.Unquote(spec.Path.Value)
			if err != nil {
				return fmt.Errorf("%s: bad import %s", rel, spec.Path.Value)
			}
			out = append(out, fileImport{
				pkg:  filepath.ToSlash(filepath.Dir(rel)),
				file: filepath.ToSlash(rel),
				line: fset.Position(spec.Pos()).Line,
				path: p,
				test: strings.HasSuffix(name, "_test.go"),
			})
		}
		return nil
	})
	return out, err
}

// checkImports returns one line per broken rule, sorted.
func checkImports(mod string, imports []fileImport) []string {
	var v []string
	for _, im := range imports {
		for _, r := range importRules {
			if im.test && !r.tests {
				continue
			}
			if why := r.forbid(mod, im); why != "" {
				v = append(v, fmt.Sprintf("%s:%d: imports %q: %s: %s", im.file, im.line, im.path, r.name, why))
			}
		}
	}
	slices.Sort(v)
	return v
}

func TestImports(t *testing.T) {
	mod, err := modulePath(".")
	if err != nil {
		t.Fatal(err)
	}
	imports, err := scanImports(".")
	if err != nil {
		t.Fatal(err)
	}
	// A rule about packages that are not found would pass vacuously.
	seen := map[string]bool{}
	for _, im := range imports {
		if !im.test {
			seen[im.pkg] = true
		}
	}
	for _, p := range []string{".", "engine", "ledger", "marketdata", "sqlite"} {
		if !seen[p] {
			t.Errorf("found no imports in package %s: is the test running at the module root?", p)
		}
	}
	for _, line := range checkImports(mod, imports) {
		t.Error(line)
	}
}

// TestImportRulesCatchViolations runs the rules over a made-up module that
// breaks each of them once, so that a rule that stops working is noticed.
// It is long for its two tables, the made-up files and the violations
// they must raise, one line each per rule: split, they would be harder to
// hold side by side.
func TestImportRulesCatchViolations(t *testing.T) {
	const mod = "github.com/twinex/twinex"
	root := t.TempDir()
	files := map[string]string{
		"go.mod":                "module " + mod + "\n\ngo 1.26\n",
		"twinex.go":             `package twinex; import ("fmt"; "database/sql"; "modernc.org/sqlite")`,
		"order.go":              `package twinex; import "net/http"`,
		"twinex_test.go":        `package twinex; import "net/http/httptest"`, // tests may
		"engine/engine.go":      `package engine; import ("sort"; "time"; "github.com/twinex/twinex"; "github.com/twinex/twinex/ledger"; "github.com/twinex/twinex/sqlite")`,
		"engine/engine_test.go": `package engine; import ("time"; "math/rand/v2")`,
		"ledger/ledger.go":      `package ledger; import ("os"; "log/slog"; "github.com/twinex/twinex/engine")`,
		"marketdata/md.go":      `package marketdata; import ("math/rand/v2"; "net/http"; "github.com/twinex/twinex/ledger")`,
		"api/api.go":            `package api; import ("net/http"; "database/sql"; _ "modernc.org/sqlite")`,
		"api/book.go":           `package api; import "github.com/twinex/twinex/engine"`,
		"gemini/client.go":      `package gemini; import ("net/http"; "github.com/twinex/twinex")`,
		"api/book_test.go":      `package api; import "github.com/twinex/twinex/engine"`, // tests may
		"sqlite/sqlite.go":      `package sqlite; import ("database/sql"; _ "modernc.org/sqlite")`,
		"postgres/pg.go":        `package postgres; import _ "github.com/jackc/pgx/v5/stdlib"`,
		"web/web.go":            `package web; import "unsafe"`,
		"app/app.go":            `package app; import "github.com/twinex/twinex/postgres/pgtest"`,
		"app/app_test.go":       `package app; import "github.com/twinex/twinex/postgres/pgtest"`, // tests may
		"web/web_test.go":       `package web; import "unsafe"`,
		"cgo/cgo.go":            "package cgo\n\n// int x;\nimport \"C\"",
		"cgo/testdata/x.go":     `package x; import "unsafe"`, // skipped, like the go command does
		"nested/go.mod":         "module example.com/nested\n",
		"nested/n.go":           `package nested; import "unsafe"`, // another module
	}
	for name, text := range files {
		p := filepath.Join(root, filepath.FromSlash(name))
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(text+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	gotMod, err := modulePath(root)
	if err != nil || gotMod != mod {
		t.Fatalf("modulePath = %q, %v", gotMod, err)
	}
	imports, err := scanImports(root)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range checkImports(mod, imports) {
		file, rest, _ := strings.Cut(line, ":")
		_, rest, _ = strings.Cut(rest, ": imports ")
		path, rest, _ := strings.Cut(rest, ": ")
		rule, _, _ := strings.Cut(rest, ": ")
		got = append(got, file+" "+path+" / "+rule)
	}
	const (
		rootStd   = "the root imports only the standard library"
		rootNoDB  = "the root imports no database or HTTP package"
		pureDeps  = "the pure packages import only the standard library and the domain"
		pureNoIO  = "the pure packages import no I/O, clock, logger or randomness"
		noDrivers = "only the stores import database drivers"
		noUnsafe  = "nothing imports unsafe or uses cgo"
		testOnly  = "the stores' test helpers are imported only by tests"
		sqliteImp = `"modernc.org/sqlite"`
		apiCore   = "the API reaches the engine only through the core"
		geminiOwn = "the Gemini client imports nothing of the server"
	)
	want := []string{
		`api/api.go ` + sqliteImp + ` / ` + noDrivers,
		`api/book.go "github.com/twinex/twinex/engine" / ` + apiCore,
		`gemini/client.go "github.com/twinex/twinex" / ` + geminiOwn,
		`app/app.go "github.com/twinex/twinex/postgres/pgtest" / ` + testOnly,
		`cgo/cgo.go "C" / ` + noUnsafe,
		`engine/engine.go "github.com/twinex/twinex/sqlite" / ` + pureDeps,
		`engine/engine.go "time" / ` + pureNoIO,
		`ledger/ledger.go "github.com/twinex/twinex/engine" / ` + pureDeps,
		`ledger/ledger.go "log/slog" / ` + pureNoIO,
		`ledger/ledger.go "os" / ` + pureNoIO,
		`marketdata/md.go "github.com/twinex/twinex/ledger" / ` + pureDeps,
		`marketdata/md.go "math/rand/v2" / ` + pureNoIO,
		`marketdata/md.go "net/http" / ` + pureNoIO,
		`order.go "net/http" / ` + rootNoDB,
		`twinex.go "database/sql" / ` + rootNoDB,
		`twinex.go ` + sqliteImp + ` / ` + noDrivers,
		`twinex.go ` + sqliteImp + ` / ` + rootStd,
		`web/web.go "unsafe" / ` + noUnsafe,
		`web/web_test.go "unsafe" / ` + noUnsafe,
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("violations of the made-up module:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
}
