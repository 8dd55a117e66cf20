package weights

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"sort"

	"github.com/xai-go/lrp/tensor"
)

// maxSafetensorsHeader caps the JSON header, as the reference
// implementation does (100 MB).
const maxSafetensorsHeader = 100_000_000

var safetensorsDtypes = map[string]dtype{
	"F64": f64, "F32": f32, "F16": f16, "BF16": bf16,
	"I64": i64, "I32": i32, "I16": i16, "I8": i8,
	"U64": u64, "U32": u32, "U16": u16, "U8": u8, "BOOL": boolean,
}

// stInfo is one tensor's header entry.
type stInfo struct {
	Dtype       *string   `json:"dtype"`
	Shape       *[]int64  `json:"shape"`
	DataOffsets *[]uint64 `json:"data_offsets"`
}

type stTensor struct {
	name       string
	dt         dtype
	shape      []int64
	n          int64
	begin, end int64
}

// isSafetensors reports whether head, the first bytes of a file, starts
// like a safetensors file: a length, then the header's '{'. (Neither a zip
// archive nor a pickle can have '{' at byte 8: torch's legacy pickles have
// their magic number there.)
func isSafetensors(head []byte) bool {
	return len(head) >= 9 && head[8] == '{'
}

// readSafetensors reads the safetensors format: an 8-byte little-endian
// header length N, N bytes of JSON, then the tensors' bytes.
func readSafetensors(r io.ReaderAt, size int64) (map[string]*tensor.T, error) {
	if size < 8 {
		return nil, errors.New("safetensors: file truncated")
	}
	var lb [8]byte
	if err := readAt(r, lb[:], 0); err != nil {
		return nil, fmt.Errorf("safetensors: %w", err)
	}
	hn := binary.LittleEndian.Uint64(lb[:])
	if hn > maxSafetensorsHeader {
		return nil, fmt.Errorf("safetensors: header of %d bytes exceeds the limit of %d", hn, maxSafetensorsHeader)
	}
	if hn > uint64(size-8) {
		return nil, fmt.Errorf("safetensors: header of %d bytes in a file of %d", hn, size)
	}
	hdr := make([]byte, hn)
	if err := readAt(r, hdr, 8); err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	tensors, err := parseSafetensorsHeader(hdr)
	if err != nil {
		return nil, fmt.Errorf("safetensors: header: %w", err)
	}
	base := 8 + int64(hn)
	dataLen := size - base
	// The tensors must tile the data section exactly, in offset order, as
	// the reference implementation requires.
	sorted := append([]*stTensor(nil), tensors...)
	sort.SliceStable(sorted, func(i, j int) bool {
		if sorted[i].begin != sorted[j].begin {
			return sorted[i].begin < sorted[j].begin
		}
		return sorted[i].end < sorted[j].end
	})
	pos := int64(0)
	for _, t := range sorted {
		if t.begin != pos {
			if t.begin < pos {
				return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] overlap another tensor", t.name, t.begin, t.end)
			}
			return nil, fmt.Errorf("safetensors: tensor %q: data_offsets [%d, %d] leave a gap after byte %d", t.name, t.begin, t.end, pos)
		}
		pos = t.end
	}
	if pos != dataLen {
		return nil, fmt.Errorf("safetensors: tensors cover %d bytes of a data section of %d", pos, dataLen)
	}
	out := make(map[string]*tensor.T, len(tensors))
	for _, t := range tensors {
		ishape, err := toIntShape(t.shape)
		if err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", t.name, err)
		}
		// Every element takes at least one byte of the file, so the
		// allocation below is bounded by the file's size.
		raw := make([]byte, t.end-t.begin)
		if err := readAt(r, raw, base+t.begin); err != nil {
			return nil, fmt.Errorf("safetensors: tensor %q: %w", t.name, err)
		}
		data := make([]float32, t.n)
		t.dt.decodeRange(data, raw, 0)
		out[t.name] = tensor.FromData(data, ishape...)
	}
	return out, nil
}

// parseSafetensorsHeader decodes and checks the JSON header, refusing
// duplicate names.
func parseSafetensorsHeader(hdr []byte) ([]*stTensor, error) {
	dec := json.NewDecoder(bytes.NewReader(hdr))
	dec.UseNumber()
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("not a JSON object")
	}
	seen := map[string]bool{}
	var out []*stTensor
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return nil, err
		}
		name, ok := tok.(string)
		if !ok {
			return nil, errors.New("object key is not a string")
		}
		if seen[name] {
			return nil, fmt.Errorf("duplicate entry %q", name)
		}
		seen[name] = true
		if name == "__metadata__" {
			var meta map[string]string
			if err := dec.Decode(&meta); err != nil {
				return nil, fmt.Errorf("__metadata__ is not an object of strings: %w", err)
			}
			continue
		}
		var info stInfo
		if err := dec.Decode(&info); err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		t, err := checkSafetensorsInfo(name, &info)
		if err != nil {
			return nil, fmt.Errorf("tensor %q: %w", name, err)
		}
		out = append(out, t)
	}
	if _, err := dec.Token(); err != nil { // the closing brace
		return nil, err
	}
	// Only padding may follow the object.
	if rest := hdr[dec.InputOffset():]; len(bytes.TrimRight(rest, " \t\r\n")) != 0 {
		return nil, errors.New("trailing data after the JSON object")
	}
	return out, nil
}

func checkSafetensorsInfo(name string, info *stInfo) (*stTensor, error) {
	if info.Dtype == nil || info.Shape == nil || info.DataOffsets == nil {
		return nil, errors.New("needs dtype, shape and data_offsets")
	}
	dt, ok := safetensorsDtypes[*info.Dtype]
	if !ok {
		return nil, fmt.Errorf("unsupported dtype %q", *info.Dtype)
	}
	n, err := numel(*info.Shape)
	if err != nil {
		return nil, err
	}
	offs := *info.DataOffsets
	if len(offs) != 2 {
		return nil, fmt.Errorf("data_offsets has %d elements, want 2", len(offs))
	}
	if offs[0] > offs[1] || offs[1] > 1<<62 {
		return nil, fmt.Errorf("bad data_offsets %v", offs)
	}
	if want := uint64(n) * uint64(dt.size()); offs[1]-offs[0] != want {
		return nil, fmt.Errorf("data_offsets %v span %d bytes, want %d for %s %v", offs, offs[1]-offs[0], want, dt, *info.Shape)
	}
	return &stTensor{name: name, dt: dt, shape: *info.Shape, n: n, begin: int64(offs[0]), end: int64(offs[1])}, nil
}
