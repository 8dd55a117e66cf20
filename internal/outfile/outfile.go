// Package outfile writes output files so that a reader never sees half of
// one and nothing but a regular file is ever replaced.
//
// # The contract
//
//   - A file is written into a temporary file in the same directory and
//     renamed over its path only when complete: the path holds either its
//     old content or the whole new one, and a failed write leaves nothing.
//   - Files are created with mode 0666 minus the process's umask, as
//     os.Create does (the temporary file is opened with O_EXCL and 0666, so
//     the kernel applies the umask).
//   - Only a regular file is replaced. A directory, FIFO, socket or device
//     at the path is refused with an error naming the path. A symbolic link
//     to a regular file is written through: the file it points to is
//     replaced (atomically, in its own directory) and the link stays. A
//     link to anything else, or a dangling link, is refused.
//   - Missing parent directories are created (as mkdir -p, mode 0777 minus
//     the umask).
//   - Errors name the caller's path, never the temporary file's.
//
// Check verifies, before any work starts, that Write will be able to
// create a path, and leaves nothing behind.
package outfile

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"time"
)

// Error is a failure to write (or to be able to write) Path.
type Error struct {
	Path string // the caller's path
	Err  error  // the reason, without a temporary file's name
}

func (e *Error) Error() string { return "cannot write " + e.Path + ": " + e.Err.Error() }

// Unwrap returns the reason.
func (e *Error) Unwrap() error { return e.Err }

// ErrNotRegular is the reason given when the path exists and is not a
// regular file (or a link to one).
var ErrNotRegular = errors.New("exists and is not a regular file; refusing to replace it")

// fail wraps err for path, replacing any *fs.PathError or *os.LinkError
// (which name temporary files) by its bare reason.
func fail(path string, err error) error {
	var pe *fs.PathError
	var le *os.LinkError
	switch {
	case errors.As(err, &pe):
		err = pe.Err
	case errors.As(err, &le):
		err = le.Err
	}
	return &Error{Path: path, Err: err}
}

// target resolves the path Write replaces: path itself, or the regular
// file a symbolic link at path points to.
func target(path string) (dst string, err error) {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return path, nil
	}
	if err != nil {
		return "", fail(path, err)
	}
	if fi.Mode()&fs.ModeSymlink != 0 {
		dst, err = filepath.EvalSymlinks(path)
		if err != nil {
			return "", &Error{Path: path, Err: errors.New("is a symbolic link that does not resolve; refusing to replace it")}
		}
		if fi, err = os.Stat(dst); err != nil {
			return "", fail(path, err)
		}
		if !fi.Mode().IsRegular() {
			return "", &Error{Path: path, Err: fmt.Errorf("is a symbolic link to %s, which %w", dst, ErrNotRegular)}
		}
		return dst, nil
	}
	if fi.IsDir() {
		return "", &Error{Path: path, Err: errors.New("is a directory")}
	}
	if !fi.Mode().IsRegular() {
		return "", &Error{Path: path, Err: fmt.Errorf("%w (%s)", ErrNotRegular, kind(fi.Mode()))}
	}
	return path, nil
}

// kind names a non-regular file mode.
func kind(m fs.FileMode) string {
	switch {
	case m&fs.ModeNamedPipe != 0:
		return "a FIFO"
	case m&fs.ModeSocket != 0:
		return "a socket"
	case m&fs.ModeCharDevice != 0:
		return "a character device"
	case m&fs.ModeDevice != 0:
		return "a device"
	}
	return "mode " + m.String()
}

var tempSeq atomic.Uint64

// createTemp creates a new empty file next to path with mode 0666 minus
// the umask.
func createTemp(path string) (*os.File, error) {
	dir, base := filepath.Split(path)
	seed := uint64(time.Now().UnixNano()) ^ uint64(os.Getpid())<<32
	for range 1000 {
		name := filepath.Join(dir, "."+base+".tmp"+strconv.FormatUint((seed+tempSeq.Add(1))%1e9, 10))
		f, err := os.OpenFile(name, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o666)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		return f, err
	}
	return nil, errors.New("no unused temporary file name")
}

// MkdirAll creates dir and its missing parents with mode 0777 minus the
// umask. Errors name dir.
func MkdirAll(dir string) error { return mkdirAll(dir, dir) }

// mkdirAll creates dir for the output path.
func mkdirAll(path, dir string) error {
	if dir == "" || dir == "." {
		return nil
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		var pe *fs.PathError
		if errors.As(err, &pe) && pe.Path != path {
			return &Error{Path: path, Err: fmt.Errorf("%s: %w", pe.Path, pe.Err)}
		}
		return fail(path, err)
	}
	return nil
}

// Write writes data to path; see the package documentation.
func Write(path string, data []byte) error {
	return WriteWith(path, func(w io.Writer) error {
		_, err := w.Write(data)
		return err
	})
}

// WriteWith writes what write produces to path; see the package
// documentation. If write fails, path is left as it was and the error is
// returned wrapped in an *Error for path.
func WriteWith(path string, write func(w io.Writer) error) (err error) {
	if path == "" {
		return &Error{Path: `""`, Err: errors.New("empty file name")}
	}
	dst, err := target(path)
	if err != nil {
		return err
	}
	if err := mkdirAll(path, filepath.Dir(dst)); err != nil {
		return err
	}
	f, err := createTemp(dst)
	if err != nil {
		return fail(path, err)
	}
	tmp := f.Name()
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(tmp)
		}
	}()
	bw := bufio.NewWriterSize(f, 1<<16)
	if err := write(bw); err != nil {
		return fail(path, err)
	}
	if err := bw.Flush(); err != nil {
		return fail(path, err)
	}
	if err := f.Sync(); err != nil {
		return fail(path, err)
	}
	if err := f.Close(); err != nil {
		return fail(path, err)
	}
	if err := os.Rename(tmp, dst); err != nil {
		return fail(path, err)
	}
	return nil
}

// Check reports whether Write could create path, without creating
// anything: an existing path must be a regular file (or a link to one),
// and the nearest existing ancestor directory must be a directory in
// which a file can be created (tested by creating and removing one).
// Missing directories between them are fine: Write creates them.
func Check(path string) error {
	if path == "" {
		return &Error{Path: `""`, Err: errors.New("empty file name")}
	}
	dst, err := target(path)
	if err != nil {
		return err
	}
	return checkDirOf(path, filepath.Dir(dst))
}

// CheckDir reports whether dir can serve as an output directory: it is a
// directory (or a link to one) in which files can be created, or it does
// not exist and its nearest existing ancestor is such a directory.
// Nothing is created.
func CheckDir(dir string) error {
	if dir == "" {
		return &Error{Path: `""`, Err: errors.New("empty directory name")}
	}
	fi, err := os.Stat(dir)
	switch {
	case err == nil && !fi.IsDir():
		return &Error{Path: dir, Err: errors.New("exists and is not a directory")}
	case err != nil && !errors.Is(err, fs.ErrNotExist):
		return fail(dir, err)
	}
	return checkDirOf(dir, dir)
}

// checkDirOf checks that files can be created in dir, or in its nearest
// existing ancestor if dir is missing; errors name path.
func checkDirOf(path, dir string) error {
	for {
		fi, err := os.Stat(dir)
		if err == nil {
			if !fi.IsDir() {
				return &Error{Path: path, Err: fmt.Errorf("%s is not a directory", dir)}
			}
			break
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return fail(path, err)
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return fail(path, err)
		}
		dir = parent
	}
	f, err := createTemp(filepath.Join(dir, "lrp-check"))
	if err != nil {
		return fail(path, err)
	}
	f.Close()
	if err := os.Remove(f.Name()); err != nil {
		return fail(path, err)
	}
	return nil
}
