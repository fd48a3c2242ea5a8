package scan

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/twinex/twinex/auth"
)

func secret(t *testing.T) string {
	t.Helper()
	s, err := auth.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// nearMiss has the prefix and the shape but a wrong checksum.
func nearMiss(s string) string {
	b := []byte(s)
	if b[len(b)-1] == 'z' {
		b[len(b)-1] = 'y'
	} else {
		b[len(b)-1] = 'z'
	}
	return string(b)
}

func TestTreeAndHistory(t *testing.T) {
	git, err := exec.LookPath("git")
	if err != nil {
		t.Skip("git is not installed")
	}
	dir := t.TempDir()
	run := func(args ...string) {
		t.Helper()
		cmd := exec.Command(git, append([]string{"-C", dir, "-c", "user.name=t", "-c", "user.email=t@example.com"}, args...)...)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("git %v: %v\n%s", args, err, out)
		}
	}
	write := func(name, text string) {
		t.Helper()
		if err := os.MkdirAll(filepath.Dir(filepath.Join(dir, name)), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	old, live, miss := secret(t), secret(t), nearMiss(secret(t))
	run("init", "-q")
	write("bot/config.py", "KEY = 'account-x'\nSECRET = '"+old+"'\n")
	write("notes.txt", "not a secret: "+miss+"\ntwxs_short\n")
	run("add", ".")
	run("commit", "-q", "-m", "first")
	write("bot/config.py", "KEY = 'account-x'\nSECRET = os.environ['SECRET']\n") // removed, but in history
	write("deploy/.env", "# env\n\nGEMINI_API_SECRET="+live+" # prod\n")
	write("image.bin", "\x00\x01"+secret(t))
	run("add", ".")
	run("commit", "-q", "-m", "second")

	var tree []Finding
	if err := Tree(dir, func(f Finding) { tree = append(tree, f) }); err != nil {
		t.Fatal(err)
	}
	if len(tree) != 1 || tree[0].Secret != live || !strings.HasSuffix(tree[0].Path, filepath.Join("deploy", ".env")) || tree[0].Line != 3 {
		t.Fatalf("tree findings %+v", tree)
	}
	var hist []Finding
	if err := History(context.Background(), dir, func(f Finding) { hist = append(hist, f) }); err != nil {
		t.Fatal(err)
	}
	got := map[string]Finding{}
	for _, f := range hist {
		got[f.Secret] = f
	}
	if len(hist) != 2 || got[old].Path != "bot/config.py" || got[old].Line != 2 || got[live].Path != "deploy/.env" || got[live].Line != 3 {
		t.Fatalf("history findings %+v", hist)
	}
	if s := got[old].String(); strings.Contains(s, old) || !strings.Contains(s, "bot/config.py:2") {
		t.Fatalf("finding prints %q", s)
	}
}
