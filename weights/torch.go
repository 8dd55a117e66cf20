package weights

import (
	"archive/zip"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strings"
	"unsafe"

	"github.com/xai-go/lrp/tensor"
)

// storageRef is a storage named by a persistent id: its bytes are read only
// when a returned tensor needs them.
type storageRef struct {
	key   string
	dtype dtype
	numel int64 // elements
	// fileOff is where the bytes start in a legacy file (-1: not known).
	fileOff int64
}

// tensorRef is a tensor rebuilt by _rebuild_tensor(_v2): a strided view of
// a storage.
type tensorRef struct {
	storage *storageRef
	offset  int64
	size    []int64
	stride  []int64
}

const (
	// maxPickleBytes caps data.pkl: a state_dict's pickle holds only names
	// and metadata, a few hundred bytes per tensor.
	maxPickleBytes = 256 << 20
	// maxStorageKeys caps the storages one file may name.
	maxStorageKeys = 1 << 22
)

// persistentLoader returns the BINPERSID handler of torch.save's pickles:
// ('storage', storage_type, key, location, numel) in the zip format, with a
// sixth view_metadata element in the legacy format.
func persistentLoader(storages map[string]*storageRef, legacy bool) func(any) (any, error) {
	return func(pid any) (any, error) {
		t, ok := pid.(pyTuple)
		if !ok || len(t) == 0 {
			return nil, fmt.Errorf("persistent id is a %s, not a tuple", typeName(pid))
		}
		tag, _ := asString(t[0])
		if tag != "storage" {
			if tag == "module" {
				return nil, errors.New("the file holds a pickled nn.Module (torch.save(model)), not a state_dict: save model.state_dict() instead")
			}
			return nil, fmt.Errorf("unsupported persistent id %q", tag)
		}
		want := 5
		if legacy {
			want = 6
		}
		if len(t) != want {
			return nil, fmt.Errorf("storage persistent id has %d elements, want %d", len(t), want)
		}
		g, ok := t[1].(*pyGlobal)
		if !ok || g.kind != gStorage {
			return nil, fmt.Errorf("storage type is a %s", typeName(t[1]))
		}
		key, ok := asString(t[2])
		if !ok {
			return nil, fmt.Errorf("storage key is a %s", typeName(t[2]))
		}
		if _, ok := asString(t[3]); !ok {
			return nil, fmt.Errorf("storage location is a %s", typeName(t[3]))
		}
		n, ok := t[4].(int64)
		if !ok || n < 0 || n > maxElems {
			return nil, fmt.Errorf("storage %q: bad element count", key)
		}
		if legacy && t[5] != nil {
			return nil, fmt.Errorf("storage %q: legacy storage views are not supported", key)
		}
		if s, ok := storages[key]; ok {
			if s.dtype != g.dtype || s.numel != n {
				return nil, fmt.Errorf("storage %q is named as %d %s and as %d %s", key, s.numel, s.dtype, n, g.dtype)
			}
			return s, nil
		}
		if len(storages) >= maxStorageKeys {
			return nil, fmt.Errorf("more than %d storages", maxStorageKeys)
		}
		s := &storageRef{key: key, dtype: g.dtype, numel: n, fileOff: -1}
		storages[key] = s
		return s, nil
	}
}

func asString(v any) (string, bool) {
	switch v := v.(type) {
	case string:
		return v, true
	case pyBytes:
		return string(v), true
	}
	return "", false
}

// wrapperKeys are the keys under which training checkpoints commonly keep
// the state_dict, tried in this order.
var wrapperKeys = []string{"state_dict", "model_state_dict", "model", "module", "net"}

// stateDict finds the state_dict in an unpickled object: the object itself
// if it is a dict whose values are all tensors, else such a dict under one
// of wrapperKeys.
func stateDict(obj any) (*pyDict, error) {
	d, ok := obj.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("the file holds a %s, not a state_dict", typeName(obj))
	}
	bad := allTensors(d)
	if bad < 0 {
		return d, nil
	}
	for _, k := range wrapperKeys {
		if v, ok := d.get(k); ok {
			if inner, ok := v.(*pyDict); ok && allTensors(inner) < 0 {
				return inner, nil
			}
		}
	}
	var keys []string
	for _, k := range d.keys {
		if s, ok := k.(string); ok && len(keys) < 8 {
			keys = append(keys, fmt.Sprintf("%q", s))
		}
	}
	return nil, fmt.Errorf("the file's dict is not a state_dict (entry %d is a %s) and has no state_dict under %q (keys: %s)",
		bad, typeName(d.vals[bad]), wrapperKeys, strings.Join(keys, ", "))
}

// allTensors returns -1 if d maps strings to tensors, else the index of the
// first other entry.
func allTensors(d *pyDict) int {
	for i, k := range d.keys {
		if _, ok := k.(string); !ok {
			return i
		}
		if _, ok := d.vals[i].(*tensorRef); !ok {
			return i
		}
	}
	return -1
}

// loadFunc checks that a storage's bytes are in the file, before anything
// is allocated for them, and returns a function that reads them into dst
// (of exactly the storage's byte size).
type loadFunc func(s *storageRef) (read func(dst []byte) error, err error)

// materialiseAll converts every tensor of a state_dict, reading each
// storage once and keeping it only while later tensors still view it.
func materialiseAll(d *pyDict, load loadFunc, b *budget) (map[string]*tensor.T, error) {
	refs := map[*storageRef]int{}
	for _, v := range d.vals {
		refs[v.(*tensorRef).storage]++
	}
	cache := map[*storageRef][]byte{}
	out := make(map[string]*tensor.T, len(d.keys))
	for i, k := range d.keys {
		name := k.(string)
		tr := d.vals[i].(*tensorRef)
		refs[tr.storage]--
		t, err := materialise(tr, refs[tr.storage] == 0, cache, load, b)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		if refs[tr.storage] == 0 {
			delete(cache, tr.storage)
		}
		out[name] = t
	}
	return out, nil
}

// materialise converts one tensor; last says that no later tensor views
// its storage.
func materialise(tr *tensorRef, last bool, cache map[*storageRef][]byte, load loadFunc, b *budget) (*tensor.T, error) {
	n, err := numel(tr.size)
	if err != nil {
		return nil, err
	}
	st := tr.storage
	if n > 0 {
		if err := checkView(tr.offset, tr.size, tr.stride, st.numel); err != nil {
			return nil, err
		}
	}
	if err := b.take(n); err != nil {
		return nil, err
	}
	if n == 0 {
		return strided(nil, st.dtype, 0, tr.size, tr.stride, 0)
	}
	data, ok := cache[st]
	var read func([]byte) error
	if !ok {
		if read, err = load(st); err != nil {
			return nil, fmt.Errorf("storage %q: %w", st.key, err)
		}
	}
	if !ok && last && st.dtype == f32 && littleEndian && tr.offset == 0 && n == st.numel && isContiguous(tr.size, tr.stride) {
		// The common case, a float32 tensor that is its whole storage:
		// read the bytes straight into the result.
		shape, err := toIntShape(tr.size)
		if err != nil {
			return nil, err
		}
		out := make([]float32, n)
		if err := read(unsafe.Slice((*byte)(unsafe.Pointer(&out[0])), 4*n)); err != nil {
			return nil, fmt.Errorf("storage %q: %w", st.key, err)
		}
		return tensor.FromData(out, shape...), nil
	}
	if !ok {
		data = make([]byte, st.numel*st.dtype.size())
		if err := read(data); err != nil {
			return nil, fmt.Errorf("storage %q: %w", st.key, err)
		}
		cache[st] = data
	}
	return strided(data, st.dtype, tr.offset, tr.size, tr.stride, n)
}

// littleEndian is true on little-endian machines, where float32 storage
// bytes can be read directly into a []float32.
var littleEndian = binary.NativeEndian.Uint16([]byte{1, 0}) == 1

// readZip reads the torch.save zip format (torch ≥ 1.6).
func readZip(r io.ReaderAt, size int64) (map[string]*tensor.T, error) {
	zr, err := zip.NewReader(r, size)
	if err != nil && !errors.Is(err, zip.ErrInsecurePath) {
		// Names are only looked up, never used as paths, so insecure
		// names are harmless here.
		return nil, fmt.Errorf("bad zip archive: %w", err)
	}
	files := make(map[string]*zip.File, len(zr.File))
	var pkls []string
	for _, f := range zr.File {
		if _, dup := files[f.Name]; dup {
			return nil, fmt.Errorf("zip archive has two entries named %q", f.Name)
		}
		files[f.Name] = f
		if dir, ok := strings.CutSuffix(f.Name, "data.pkl"); ok && strings.Count(dir, "/") == 1 && strings.HasSuffix(dir, "/") {
			pkls = append(pkls, f.Name)
		}
	}
	if len(pkls) != 1 {
		if _, ok := files["model.json"]; ok {
			return nil, errors.New("zip archive is a legacy TorchScript model, not a torch.save state_dict")
		}
		return nil, fmt.Errorf("zip archive has %d <archive>/data.pkl entries, want 1 (not a torch.save file?)", len(pkls))
	}
	prefix := strings.TrimSuffix(pkls[0], "data.pkl")
	if _, ok := files[prefix+"constants.pkl"]; ok {
		return nil, errors.New("zip archive is a TorchScript model (torch.jit.save), not a torch.save state_dict")
	}
	if f, ok := files[prefix+"byteorder"]; ok {
		bo, err := readEntry(f, 16, size, nil)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", f.Name, err)
		}
		if s := strings.TrimSpace(string(bo)); s != "little" {
			return nil, fmt.Errorf("unsupported byte order %q", s)
		}
	}
	pf := files[pkls[0]]
	b := newBudget(size)
	pkl, err := readEntry(pf, maxPickleBytes, size, b)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pf.Name, err)
	}
	storages := map[string]*storageRef{}
	obj, err := unpickle(newPickleSource(bytes.NewReader(pkl), int64(len(pkl))), persistentLoader(storages, false))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", pf.Name, err)
	}
	d, err := stateDict(obj)
	if err != nil {
		return nil, err
	}
	load := func(s *storageRef) (func([]byte) error, error) {
		name := prefix + "data/" + s.key
		f, ok := files[name]
		if !ok {
			return nil, fmt.Errorf("zip entry %q missing", name)
		}
		nbytes := s.numel * s.dtype.size()
		if f.UncompressedSize64 != uint64(nbytes) {
			return nil, fmt.Errorf("zip entry %q holds %d bytes, want %d for %d %s", name, f.UncompressedSize64, nbytes, s.numel, s.dtype)
		}
		if err := checkEntry(f, nbytes, size, b); err != nil {
			return nil, fmt.Errorf("zip entry %q: %w", name, err)
		}
		return func(dst []byte) error {
			if err := readEntryInto(f, dst); err != nil {
				return fmt.Errorf("zip entry %q: %w", name, err)
			}
			return nil
		}, nil
	}
	return materialiseAll(d, load, b)
}

// readEntry reads a whole zip entry of at most max bytes.
func readEntry(f *zip.File, max, fileSize int64, b *budget) ([]byte, error) {
	if err := checkEntry(f, max, fileSize, b); err != nil {
		return nil, err
	}
	buf := make([]byte, f.UncompressedSize64)
	if err := readEntryInto(f, buf); err != nil {
		return nil, err
	}
	return buf, nil
}

// checkEntry checks, before anything is allocated for it, that a zip entry
// holds at most max bytes and that its stored bytes fit in the file.
// Compressed entries (torch.save never writes them) take their size from
// budget b (nil: only max applies).
func checkEntry(f *zip.File, max, fileSize int64, b *budget) error {
	n := f.UncompressedSize64
	if n > uint64(max) {
		return fmt.Errorf("entry of %d bytes exceeds the limit of %d", n, max)
	}
	if f.Method == zip.Store {
		if f.CompressedSize64 != n || n > uint64(fileSize) {
			return fmt.Errorf("stored entry claims %d bytes (%d compressed) in a file of %d", n, f.CompressedSize64, fileSize)
		}
		if b != nil {
			if err := b.takeBytes(int64(n)); err != nil {
				return err
			}
		}
	} else if b != nil {
		// Charge decompressed bytes like output elements (4 bytes each).
		if err := b.take(int64(n) / 4); err != nil {
			return fmt.Errorf("compressed entry: %w", err)
		}
	}
	return nil
}

// readEntryInto reads a zip entry of exactly len(dst) bytes into dst and
// checks its CRC-32.
func readEntryInto(f *zip.File, dst []byte) error {
	rc, err := f.Open()
	if err != nil {
		return err
	}
	defer rc.Close()
	if _, err := io.ReadFull(rc, dst); err != nil {
		return fmt.Errorf("reading: %w", err)
	}
	// Reading to the end makes archive/zip check the CRC-32.
	var one [1]byte
	if k, err := rc.Read(one[:]); k != 0 || err != io.EOF {
		if err == nil || err == io.EOF {
			err = errors.New("entry longer than its size")
		}
		return fmt.Errorf("reading: %w", err)
	}
	return nil
}

// legacyMagic is torch's MAGIC_NUMBER 0x1950a86a20f9469cfc6c as LONG1 bytes.
const legacyMagic = "\x6c\xfc\x9c\x46\xf9\x20\x6a\xa8\x50\x19"

// readLegacy reads the legacy torch.save format (torch < 1.6, or
// _use_new_zipfile_serialization=False): five pickles (magic number,
// protocol version 1001, sys_info, the object, the sorted storage keys),
// then each storage as a little-endian int64 element count and its bytes.
func readLegacy(r io.ReaderAt, size int64) (map[string]*tensor.T, error) {
	// The pickles come first; like data.pkl they are capped at
	// maxPickleBytes.
	src := newPickleSource(io.NewSectionReader(r, 0, size), min(size, maxPickleBytes))
	magic, err := unpickle(src, nil)
	if err != nil {
		return nil, fmt.Errorf("not a PyTorch file: %w", err)
	}
	if m, ok := magic.(bigInt); !ok || m.le != legacyMagic {
		return nil, errors.New("not a PyTorch file: a pickle without torch's magic number")
	}
	proto, err := unpickle(src, nil)
	if err != nil {
		return nil, fmt.Errorf("legacy format: %w", err)
	}
	if proto != any(int64(1001)) {
		return nil, fmt.Errorf("legacy format: unsupported protocol version (a %s)", typeName(proto))
	}
	sysInfo, err := unpickle(src, nil)
	if err != nil {
		return nil, fmt.Errorf("legacy format: sys_info: %w", err)
	}
	if si, ok := sysInfo.(*pyDict); ok {
		if le, ok := si.get("little_endian"); ok && le != any(true) {
			return nil, errors.New("legacy format: big-endian files are not supported")
		}
	} else {
		return nil, fmt.Errorf("legacy format: sys_info is a %s", typeName(sysInfo))
	}
	storages := map[string]*storageRef{}
	obj, err := unpickle(src, persistentLoader(storages, true))
	if err != nil {
		return nil, fmt.Errorf("legacy format: %w", err)
	}
	keysObj, err := unpickle(src, nil)
	if err != nil {
		return nil, fmt.Errorf("legacy format: storage keys: %w", err)
	}
	keys, ok := keysObj.(*pyList)
	if !ok {
		return nil, fmt.Errorf("legacy format: storage keys are a %s", typeName(keysObj))
	}
	pos := src.pos
	for _, kv := range keys.items {
		key, ok := asString(kv)
		if !ok {
			return nil, fmt.Errorf("legacy format: storage key is a %s", typeName(kv))
		}
		s, ok := storages[key]
		if !ok {
			return nil, fmt.Errorf("legacy format: storage %q has data but no tensor", key)
		}
		if s.fileOff >= 0 {
			return nil, fmt.Errorf("legacy format: storage %q listed twice", key)
		}
		var hdr [8]byte
		if pos > size-8 {
			return nil, fmt.Errorf("legacy format: storage %q: file truncated", key)
		}
		if err := readAt(r, hdr[:], pos); err != nil {
			return nil, fmt.Errorf("legacy format: storage %q: %w", key, err)
		}
		n := int64(binary.LittleEndian.Uint64(hdr[:]))
		if n != s.numel {
			return nil, fmt.Errorf("legacy format: storage %q has %d elements, want %d", key, n, s.numel)
		}
		nbytes := n * s.dtype.size()
		if nbytes > size-pos-8 {
			return nil, fmt.Errorf("legacy format: storage %q: %d bytes past the end of the file", key, nbytes)
		}
		s.fileOff = pos + 8
		pos += 8 + nbytes
	}
	d, err := stateDict(obj)
	if err != nil {
		return nil, err
	}
	load := func(s *storageRef) (func([]byte) error, error) {
		if s.fileOff < 0 {
			return nil, errors.New("no data in the file")
		}
		// Its size was checked against the file's above.
		return func(dst []byte) error { return readAt(r, dst, s.fileOff) }, nil
	}
	return materialiseAll(d, load, newBudget(size))
}
