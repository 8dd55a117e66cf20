package outfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// noLeftovers fails if dir holds anything but the names given.
func noLeftovers(t *testing.T, dir string, want ...string) {
	t.Helper()
	es, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range es {
		got = append(got, e.Name())
	}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("%s holds %q, want %q", dir, got, want)
	}
}

// userPathOnly fails unless err names path and no temporary file.
func userPathOnly(t *testing.T, err error, path string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error for %s", path)
	}
	if !strings.Contains(err.Error(), path) || strings.Contains(err.Error(), ".tmp") || strings.Contains(err.Error(), "lrp-check") {
		t.Errorf("error %q should name %s and no temporary file", err, path)
	}
	var oe *Error
	if !errors.As(err, &oe) {
		t.Errorf("error %q is not an *outfile.Error", err)
	}
}

func TestWriteCreatesAndReplaces(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "a", "b", "out.json")
	if err := Write(p, []byte("one")); err != nil {
		t.Fatal(err)
	}
	if err := Write(p, []byte("two")); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(p); string(b) != "two" {
		t.Errorf("content %q, want two", b)
	}
	noLeftovers(t, filepath.Join(dir, "a", "b"), "out.json")
}

func TestWriteWithFailureLeavesOldContent(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "out.png")
	if err := Write(p, []byte("old")); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("encoder failed")
	err := WriteWith(p, func(w io.Writer) error {
		w.Write([]byte("half"))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("error %v, want it to wrap %v", err, boom)
	}
	userPathOnly(t, err, p)
	if b, _ := os.ReadFile(p); string(b) != "old" {
		t.Errorf("content %q, want old", b)
	}
	noLeftovers(t, dir, "out.png")
}

func TestRefusesDirectory(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "d")
	if err := os.Mkdir(p, 0o755); err != nil {
		t.Fatal(err)
	}
	userPathOnly(t, Write(p, []byte("x")), p)
	userPathOnly(t, Check(p), p)
	if fi, err := os.Stat(p); err != nil || !fi.IsDir() {
		t.Errorf("directory %s was replaced", p)
	}
	noLeftovers(t, dir, "d")
}

func TestSymlinkToRegularFileIsWrittenThrough(t *testing.T) {
	dir := t.TempDir()
	real := filepath.Join(dir, "real.txt")
	if err := os.WriteFile(real, []byte("old"), 0o644); err != nil {
		t.Fatal(err)
	}
	link := filepath.Join(dir, "link.txt")
	if err := os.Symlink("real.txt", link); err != nil {
		t.Skip("no symlinks:", err)
	}
	if err := Check(link); err != nil {
		t.Fatal(err)
	}
	if err := Write(link, []byte("new")); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Lstat(link)
	if err != nil || fi.Mode()&os.ModeSymlink == 0 {
		t.Fatalf("link %s was replaced: %v %v", link, fi.Mode(), err)
	}
	if b, _ := os.ReadFile(real); string(b) != "new" {
		t.Errorf("target content %q, want new", b)
	}
	noLeftovers(t, dir, "link.txt", "real.txt")
}

func TestRefusesSymlinkToNonRegular(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"dangling": filepath.Join(dir, "missing"),
		"dir":      dir,
		"devnull":  os.DevNull, // only the link is written to, never the device
	}
	for name, to := range cases {
		t.Run(name, func(t *testing.T) {
			link := filepath.Join(dir, "link-"+name)
			if err := os.Symlink(to, link); err != nil {
				t.Skip("no symlinks:", err)
			}
			userPathOnly(t, Write(link, []byte("x")), link)
			userPathOnly(t, Check(link), link)
			if fi, err := os.Lstat(link); err != nil || fi.Mode()&os.ModeSymlink == 0 {
				t.Errorf("link %s was replaced", link)
			}
		})
	}
}

func TestCheckLeavesNothing(t *testing.T) {
	dir := t.TempDir()
	if err := Check(filepath.Join(dir, "new", "deeper", "x.npy")); err != nil {
		t.Fatal(err)
	}
	if err := CheckDir(filepath.Join(dir, "heatmaps")); err != nil {
		t.Fatal(err)
	}
	noLeftovers(t, dir)
}

func TestCheckUnderRegularFile(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "file.txt")
	if err := os.WriteFile(file, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{filepath.Join(file, "x.npy"), filepath.Join(file, "sub", "x.npy")} {
		userPathOnly(t, Check(p), p)
		userPathOnly(t, CheckDir(p), p)
		userPathOnly(t, Write(p, []byte("x")), p)
	}
	userPathOnly(t, CheckDir(file), file)
	noLeftovers(t, dir, "file.txt")
}

func TestReadOnlyDirectory(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("running as root: permission bits do not stop root from writing")
	}
	dir := t.TempDir()
	ro := filepath.Join(dir, "ro")
	if err := os.Mkdir(ro, 0o555); err != nil {
		t.Fatal(err)
	}
	defer os.Chmod(ro, 0o755)
	for _, p := range []string{filepath.Join(ro, "x.json"), filepath.Join(ro, "sub", "x.json")} {
		userPathOnly(t, Check(p), p)
		userPathOnly(t, Write(p, []byte("x")), p)
	}
	noLeftovers(t, ro)
}

func TestEmptyPath(t *testing.T) {
	if Write("", nil) == nil || Check("") == nil || CheckDir("") == nil {
		t.Error("an empty path was accepted")
	}
}
