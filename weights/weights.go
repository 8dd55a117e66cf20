package weights

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"github.com/xai-go/lrp/tensor"
)

// ErrForbiddenGlobal is wrapped by the error Load and Read return when a
// pickle names a Python global outside the allow-list (see the package
// documentation), such as os.system or an nn.Module class. Nothing named in
// a file is ever executed.
var ErrForbiddenGlobal = errors.New("forbidden pickle global")

// Load reads a state_dict from a PyTorch file (torch.save's zip format, as
// written by torch ≥ 1.6, or its legacy format) or a .safetensors file,
// chosen by content, and returns its tensors by name, converted to float32
// in row-major order. Errors start with "weights: " and the path.
func Load(path string) (map[string]*tensor.T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	if !fi.Mode().IsRegular() {
		return nil, fmt.Errorf("weights: %s: not a regular file", path)
	}
	m, err := read(f, fi.Size())
	if err != nil {
		return nil, fmt.Errorf("weights: %s: %w", path, err)
	}
	return m, nil
}

// Read is Load for the size bytes of r: it reads a PyTorch (zip or legacy)
// or safetensors state_dict, chosen by content. It never allocates much
// more than size bytes for what the input claims (see the package
// documentation). Errors start with "weights: ".
func Read(r io.ReaderAt, size int64) (map[string]*tensor.T, error) {
	m, err := read(r, size)
	if err != nil {
		return nil, fmt.Errorf("weights: %w", err)
	}
	return m, nil
}

// tarMagic is at offset 257 of a tar file (torch's oldest format).
const tarMagic = "ustar"

func read(r io.ReaderAt, size int64) (map[string]*tensor.T, error) {
	if size < 0 {
		return nil, fmt.Errorf("negative size %d", size)
	}
	if size == 0 {
		return nil, errors.New("empty file")
	}
	head := make([]byte, min(size, 16))
	if err := readAt(r, head, 0); err != nil {
		return nil, fmt.Errorf("reading: %w", err)
	}
	switch {
	case bytes.HasPrefix(head, []byte("PK\x03\x04")), bytes.HasPrefix(head, []byte("PK\x05\x06")):
		return readZip(r, size)
	case isSafetensors(head):
		return readSafetensors(r, size)
	case head[0] == 0x80: // pickle PROTO: torch's legacy format
		return readLegacy(r, size)
	case isTar(r, size):
		return nil, errors.New("unsupported legacy tar format (torch < 0.1.10): load and re-save it with a current torch")
	}
	return nil, errors.New("unrecognised format: neither a torch.save file (zip or legacy) nor safetensors")
}

func isTar(r io.ReaderAt, size int64) bool {
	if size < 262 {
		return false
	}
	b := make([]byte, len(tarMagic))
	return readAt(r, b, 257) == nil && string(b) == tarMagic
}

// readAt fills buf from r at off. A full read that also reports io.EOF (as
// io.ReaderAt allows at the end of the input) succeeds.
func readAt(r io.ReaderAt, buf []byte, off int64) error {
	n, err := r.ReadAt(buf, off)
	if n == len(buf) {
		return nil
	}
	if err == nil || err == io.EOF {
		err = io.ErrUnexpectedEOF
	}
	return err
}
