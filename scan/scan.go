// Package scan finds Twinex API secrets (auth.SecretPrefix, with a valid
// checksum) in files and in a git repository's history. A string that has
// the prefix but a wrong checksum is not reported.
package scan

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"

	"github.com/twinex/twinex/auth"
)

// Finding is one secret found.
type Finding struct {
	Commit string // "" for a file in the working tree
	Path   string
	Line   int
	Secret string
}

// Redacted returns the secret with all but its prefix and first characters
// hidden, for printing.
func (f Finding) Redacted() string {
	return f.Secret[:len(auth.SecretPrefix)+4] + "…"
}

func (f Finding) String() string {
	where := f.Path + ":" + strconv.Itoa(f.Line)
	if f.Commit != "" {
		where = f.Commit[:min(12, len(f.Commit))] + ":" + where
	}
	return where + ": Twinex API secret " + f.Redacted()
}

// candidate matches the prefix and the right length; CheckSecret decides.
var candidate = regexp.MustCompile(regexp.QuoteMeta(auth.SecretPrefix) + `[1-9A-HJ-NP-Za-km-z]{` + strconv.Itoa(auth.SecretLen-len(auth.SecretPrefix)) + `}`)

// maxFile bounds the files read; larger ones are skipped.
const maxFile = 50 << 20

// Reader scans r, reporting each valid secret with path and line.
func Reader(r io.Reader, path string, found func(Finding)) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64<<10), maxFile)
	for n := 1; sc.Scan(); n++ {
		line(sc.Bytes(), "", path, n, found)
	}
	return sc.Err()
}

func line(b []byte, commit, path string, n int, found func(Finding)) {
	if !bytes.Contains(b, []byte(auth.SecretPrefix)) {
		return
	}
	for _, m := range candidate.FindAll(b, -1) {
		if auth.CheckSecret(string(m)) {
			found(Finding{Commit: commit, Path: path, Line: n, Secret: string(m)})
		}
	}
}

// Tree scans the files under root (a file or a directory), skipping .git
// directories, binary files and files over 50 MiB.
func Tree(root string, found func(Finding)) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil
		}
		info, err := d.Info()
		if err != nil || info.Size() > maxFile {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		if bytes.IndexByte(data[:min(len(data), 8000)], 0) >= 0 {
			return nil // binary
		}
		return Reader(bytes.NewReader(data), path, found)
	})
}

// IsRepo reports whether dir is the top of a git work tree.
func IsRepo(dir string) bool {
	fi, err := os.Stat(filepath.Join(dir, ".git"))
	return err == nil && (fi.IsDir() || fi.Mode().IsRegular())
}

// History scans the lines every commit of the repository at dir added, on
// every branch, with the git command.
func History(ctx context.Context, dir string, found func(Finding)) error {
	cmd := exec.CommandContext(ctx, "git", "-C", dir, "log", "-p", "--all", "--no-color", "--no-ext-diff", "--format=commit %H")
	out, err := cmd.StdoutPipe()
	if err != nil {
		return err
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("git log: %w", err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 64<<10), maxFile)
	var commit, path string
	n := 0
	for sc.Scan() {
		b := sc.Bytes()
		switch {
		case bytes.HasPrefix(b, []byte("commit ")):
			commit, path = string(b[len("commit "):]), ""
		case bytes.HasPrefix(b, []byte("+++ ")):
			path = strings.TrimPrefix(string(b[4:]), "b/")
		case bytes.HasPrefix(b, []byte("@@ ")):
			n = hunkStart(string(b))
		case bytes.HasPrefix(b, []byte("+")):
			line(b[1:], commit, path, n, found)
			n++
		case bytes.HasPrefix(b, []byte(" ")):
			n++
		}
	}
	if err := sc.Err(); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		return err
	}
	if err := cmd.Wait(); err != nil {
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			return fmt.Errorf("git log in %s: %s", dir, strings.TrimSpace(stderr.String()))
		}
		return err
	}
	return nil
}

// hunkStart returns the first new-file line of a hunk header
// "@@ -a,b +c,d @@".
func hunkStart(h string) int {
	i := strings.Index(h, " +")
	if i < 0 {
		return 0
	}
	rest := h[i+2:]
	if j := strings.IndexAny(rest, ", "); j >= 0 {
		rest = rest[:j]
	}
	n, _ := strconv.Atoi(rest)
	return n
}
