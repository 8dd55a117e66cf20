//go:build unix

package outfile

import (
	"os"
	"path/filepath"
	"syscall"
	"testing"
)

func TestRefusesFIFO(t *testing.T) {
	dir := t.TempDir()
	p := filepath.Join(dir, "fifo")
	if err := syscall.Mkfifo(p, 0o644); err != nil {
		t.Skip("mkfifo:", err)
	}
	userPathOnly(t, Write(p, []byte("x")), p)
	userPathOnly(t, Check(p), p)
	// A symlink to the FIFO stands for /dev/null and other devices.
	link := filepath.Join(dir, "link")
	if err := os.Symlink(p, link); err != nil {
		t.Fatal(err)
	}
	userPathOnly(t, Write(link, []byte("x")), link)
	if fi, err := os.Lstat(p); err != nil || fi.Mode()&os.ModeNamedPipe == 0 {
		t.Errorf("FIFO %s was replaced", p)
	}
	noLeftovers(t, dir, "fifo", "link")
}

func TestUmaskHonoured(t *testing.T) {
	for _, mask := range []int{0o022, 0o077, 0o002} {
		old := syscall.Umask(mask)
		dir := t.TempDir()
		p := filepath.Join(dir, "sub", "out.png")
		err := Write(p, []byte("x"))
		syscall.Umask(old)
		if err != nil {
			t.Fatal(err)
		}
		for path, want := range map[string]os.FileMode{p: os.FileMode(0o666 &^ mask), filepath.Dir(p): os.FileMode(0o777 &^ mask)} {
			fi, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if got := fi.Mode().Perm(); got != want {
				t.Errorf("umask %03o: %s has mode %03o, want %03o", mask, path, got, want)
			}
		}
	}
}
