package weights

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"strings"
)

// This file holds a restricted unpickler. It builds plain Go values from a
// pickle and never calls anything: GLOBAL may only name an entry of
// allowedGlobals, REDUCE may only apply one of the allowed callables (which
// are implemented here in Go), and BUILD may only set the attributes of a
// dict (OrderedDict._metadata). The values it builds are:
//
//	nil (None), bool, int64, bigInt, float64, string, pyBytes,
//	pyTuple, *pyList, *pyDict, *pyGlobal, and whatever persistentLoad
//	returns (*storageRef), and *tensorRef from the tensor rebuilders.

// pyTuple is a Python tuple.
type pyTuple []any

// pyList is a Python list; a pointer, since APPEND mutates it.
type pyList struct{ items []any }

// pyBytes is a Python bytes object (kept as a string to be comparable).
type pyBytes string

// bigInt is an integer that does not fit in an int64, as the little-endian
// two's-complement bytes of LONG1/LONG4.
type bigInt struct{ le string }

// pyDict is a Python dict or OrderedDict, keeping insertion order.
type pyDict struct {
	keys  []any
	vals  []any
	index map[any]int
}

func newDict() *pyDict { return &pyDict{index: map[any]int{}} }

func (d *pyDict) set(k, v any) error {
	switch k.(type) {
	case nil, bool, int64, float64, string, pyBytes:
	default:
		return fmt.Errorf("unsupported dict key of type %s", typeName(k))
	}
	if i, ok := d.index[k]; ok {
		d.vals[i] = v
		return nil
	}
	d.index[k] = len(d.keys)
	d.keys = append(d.keys, k)
	d.vals = append(d.vals, v)
	return nil
}

func (d *pyDict) get(k any) (any, bool) {
	i, ok := d.index[k]
	if !ok {
		return nil, false
	}
	return d.vals[i], true
}

// globalKind says what an allowed global is.
type globalKind int

const (
	gOrderedDict globalKind = iota + 1
	gRebuildTensor
	gRebuildTensorV2
	gRebuildParameter
	gRebuildParameterWithState
	gRebuildFromTypeV2
	gTensorClass // torch.Tensor, torch.nn.parameter.Parameter: only as _rebuild_from_type_v2's type
	gStorage     // a typed storage class: only inside a persistent id
)

// pyGlobal is a resolved, allowed global.
type pyGlobal struct {
	name  string // module.name
	kind  globalKind
	dtype dtype // for gStorage
}

// allowedGlobals is the allow-list of GLOBAL/STACK_GLOBAL references.
var allowedGlobals = func() map[string]*pyGlobal {
	m := map[string]*pyGlobal{}
	add := func(name string, k globalKind, dt dtype) { m[name] = &pyGlobal{name: name, kind: k, dtype: dt} }
	add("collections.OrderedDict", gOrderedDict, 0)
	add("torch._utils._rebuild_tensor", gRebuildTensor, 0)
	add("torch._utils._rebuild_tensor_v2", gRebuildTensorV2, 0)
	add("torch._utils._rebuild_parameter", gRebuildParameter, 0)
	add("torch._utils._rebuild_parameter_with_state", gRebuildParameterWithState, 0)
	add("torch._tensor._rebuild_from_type_v2", gRebuildFromTypeV2, 0)
	add("torch.Tensor", gTensorClass, 0)
	add("torch.nn.parameter.Parameter", gTensorClass, 0)
	for _, s := range storageTypes {
		add("torch."+s.name, gStorage, s.dt)
		add("torch.cuda."+s.name, gStorage, s.dt)
	}
	return m
}()

// storageTypes are the typed-storage classes torch.save names in persistent
// ids (torch.save of torch 1.x and 2.x writes these legacy names for every
// TypedStorage: TypedStorage.pickle_storage_type).
var storageTypes = []struct {
	name string
	dt   dtype
}{
	{"FloatStorage", f32}, {"DoubleStorage", f64}, {"HalfStorage", f16},
	{"BFloat16Storage", bf16}, {"LongStorage", i64}, {"IntStorage", i32},
	{"ShortStorage", i16}, {"CharStorage", i8}, {"ByteStorage", u8},
	{"BoolStorage", boolean},
}

// Limits of the unpickler.
const (
	maxGlobalLine = 512      // bytes in a GLOBAL module or name line
	maxLongBytes  = 1 << 10  // bytes of a LONG4 integer
	maxMemo       = 1 << 24  // memo index
	maxString     = 64 << 20 // bytes of one string or bytes object
)

// pickleSource is the input of the unpickler: a buffered reader that knows
// how many bytes may still follow, so that no length field can make it
// allocate more than the input holds.
type pickleSource struct {
	r      *bufio.Reader
	pos    int64 // bytes consumed
	remain int64 // bytes that may still be read
}

func newPickleSource(r io.Reader, n int64) *pickleSource {
	return &pickleSource{r: bufio.NewReaderSize(io.LimitReader(r, n), int(min(max(n, 16), 64<<10))), remain: n}
}

var errTruncated = errors.New("unexpected end of pickle data")

func (s *pickleSource) byte() (byte, error) {
	b, err := s.r.ReadByte()
	if err != nil {
		return 0, errTruncated
	}
	s.pos++
	s.remain--
	return b, nil
}

// bytes reads n bytes into a new slice after checking that they can exist.
func (s *pickleSource) bytes(n uint64) ([]byte, error) {
	if n > maxString {
		return nil, fmt.Errorf("length %d exceeds the limit of %d", n, maxString)
	}
	if n > uint64(s.remain) {
		return nil, fmt.Errorf("length %d exceeds the %d bytes left", n, s.remain)
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(s.r, b); err != nil {
		return nil, errTruncated
	}
	s.pos += int64(n)
	s.remain -= int64(n)
	return b, nil
}

func (s *pickleSource) uint(n int) (uint64, error) {
	b, err := s.bytes(uint64(n))
	if err != nil {
		return 0, err
	}
	var v uint64
	for i := n - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	return v, nil
}

func (s *pickleSource) line() (string, error) {
	var sb strings.Builder
	for {
		c, err := s.byte()
		if err != nil {
			return "", err
		}
		if c == '\n' {
			return sb.String(), nil
		}
		if sb.Len() >= maxGlobalLine {
			return "", fmt.Errorf("GLOBAL line longer than %d bytes", maxGlobalLine)
		}
		sb.WriteByte(c)
	}
}

// unpickler runs one pickle.
type unpickler struct {
	src   *pickleSource
	stack []any
	marks []int
	memo  map[uint64]any
	// persistentLoad turns a BINPERSID id into a value.
	persistentLoad func(pid any) (any, error)
}

// unpickle reads one pickle (up to and including STOP) from src and returns
// its value.
func unpickle(src *pickleSource, persistentLoad func(any) (any, error)) (any, error) {
	u := &unpickler{src: src, memo: map[uint64]any{}, persistentLoad: persistentLoad}
	if persistentLoad == nil {
		u.persistentLoad = func(any) (any, error) { return nil, errors.New("unexpected persistent id (BINPERSID)") }
	}
	v, err := u.run()
	if err != nil {
		return nil, fmt.Errorf("pickle at byte %d: %w", src.pos, err)
	}
	return v, nil
}

var errUnderflow = errors.New("stack underflow")

func (u *unpickler) push(v any) { u.stack = append(u.stack, v) }

func (u *unpickler) pop() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] >= n) {
		return nil, errUnderflow
	}
	v := u.stack[n-1]
	u.stack = u.stack[:n-1]
	return v, nil
}

func (u *unpickler) top() (any, error) {
	n := len(u.stack)
	if n == 0 || (len(u.marks) > 0 && u.marks[len(u.marks)-1] >= n) {
		return nil, errUnderflow
	}
	return u.stack[n-1], nil
}

// popMark pops the items above the last MARK, and the mark.
func (u *unpickler) popMark() ([]any, error) {
	if len(u.marks) == 0 {
		return nil, errors.New("no MARK on the stack")
	}
	m := u.marks[len(u.marks)-1]
	u.marks = u.marks[:len(u.marks)-1]
	items := append([]any(nil), u.stack[m:]...)
	u.stack = u.stack[:m]
	return items, nil
}

func (u *unpickler) memoPut(i uint64) error {
	if i >= maxMemo {
		return fmt.Errorf("memo index %d too large", i)
	}
	v, err := u.top()
	if err != nil {
		return err
	}
	u.memo[i] = v
	return nil
}

func (u *unpickler) memoGet(i uint64) error {
	v, ok := u.memo[i]
	if !ok {
		return fmt.Errorf("memo index %d not set", i)
	}
	u.push(v)
	return nil
}

func (u *unpickler) global(module, name string) error {
	full := module + "." + name
	g, ok := allowedGlobals[full]
	if !ok {
		return fmt.Errorf("%w %q", ErrForbiddenGlobal, full)
	}
	u.push(g)
	return nil
}

func (u *unpickler) run() (any, error) {
	s := u.src
	for {
		op, err := s.byte()
		if err != nil {
			return nil, err
		}
		switch op {
		case 0x80: // PROTO
			p, err := s.byte()
			if err != nil {
				return nil, err
			}
			if p > 5 {
				return nil, fmt.Errorf("unsupported pickle protocol %d", p)
			}
		case 0x95: // FRAME: a length hint only
			if _, err := s.uint(8); err != nil {
				return nil, err
			}
		case '.': // STOP
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			if len(u.stack) != 0 || len(u.marks) != 0 {
				return nil, errors.New("stack not empty at STOP")
			}
			return v, nil
		case '(': // MARK
			u.marks = append(u.marks, len(u.stack))
		case '0': // POP
			if _, err := u.pop(); err != nil {
				return nil, err
			}
		case '1': // POP_MARK
			if _, err := u.popMark(); err != nil {
				return nil, err
			}
		case 'N': // NONE
			u.push(nil)
		case 0x88: // NEWTRUE
			u.push(true)
		case 0x89: // NEWFALSE
			u.push(false)
		case 'J': // BININT
			v, err := s.uint(4)
			if err != nil {
				return nil, err
			}
			u.push(int64(int32(uint32(v))))
		case 'K': // BININT1
			v, err := s.uint(1)
			if err != nil {
				return nil, err
			}
			u.push(int64(v))
		case 'M': // BININT2
			v, err := s.uint(2)
			if err != nil {
				return nil, err
			}
			u.push(int64(v))
		case 0x8a, 0x8b: // LONG1, LONG4
			var n uint64
			if op == 0x8a {
				n, err = s.uint(1)
			} else {
				n, err = s.uint(4)
			}
			if err != nil {
				return nil, err
			}
			if n > maxLongBytes {
				return nil, fmt.Errorf("LONG of %d bytes", n)
			}
			b, err := s.bytes(n)
			if err != nil {
				return nil, err
			}
			u.push(decodeLong(b))
		case 'G': // BINFLOAT (big-endian)
			v, err := s.bytes(8)
			if err != nil {
				return nil, err
			}
			u.push(math.Float64frombits(binary.BigEndian.Uint64(v)))
		case 'X', 0x8c, 0x8d: // BINUNICODE, SHORT_BINUNICODE, BINUNICODE8
			var n uint64
			switch op {
			case 'X':
				n, err = s.uint(4)
			case 0x8c:
				n, err = s.uint(1)
			default:
				n, err = s.uint(8)
			}
			if err != nil {
				return nil, err
			}
			b, err := s.bytes(n)
			if err != nil {
				return nil, err
			}
			u.push(string(b))
		case 'U', 'T', 'C', 'B', 0x8e: // SHORT_BINSTRING, BINSTRING (Python 2), SHORT_BINBYTES, BINBYTES, BINBYTES8
			var n uint64
			switch op {
			case 'U', 'C':
				n, err = s.uint(1)
			case 'T', 'B':
				n, err = s.uint(4)
			default:
				n, err = s.uint(8)
			}
			if err != nil {
				return nil, err
			}
			b, err := s.bytes(n)
			if err != nil {
				return nil, err
			}
			if op == 'U' || op == 'T' {
				u.push(string(b)) // Python 2 str, as torch.load(encoding="latin1"/"ascii") gives it
			} else {
				u.push(pyBytes(b))
			}
		case ')': // EMPTY_TUPLE
			u.push(pyTuple{})
		case 't': // TUPLE
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			u.push(pyTuple(items))
		case 0x85, 0x86, 0x87: // TUPLE1, TUPLE2, TUPLE3
			n := int(op-0x85) + 1
			t := make(pyTuple, n)
			for i := n - 1; i >= 0; i-- {
				if t[i], err = u.pop(); err != nil {
					return nil, err
				}
			}
			u.push(t)
		case ']': // EMPTY_LIST
			u.push(&pyList{})
		case 'a': // APPEND
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			l, err := u.topList()
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, v)
		case 'e': // APPENDS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			l, err := u.topList()
			if err != nil {
				return nil, err
			}
			l.items = append(l.items, items...)
		case '}': // EMPTY_DICT
			u.push(newDict())
		case 's': // SETITEM
			v, err := u.pop()
			if err != nil {
				return nil, err
			}
			k, err := u.pop()
			if err != nil {
				return nil, err
			}
			d, err := u.topDict()
			if err != nil {
				return nil, err
			}
			if err := d.set(k, v); err != nil {
				return nil, err
			}
		case 'u': // SETITEMS
			items, err := u.popMark()
			if err != nil {
				return nil, err
			}
			if len(items)%2 != 0 {
				return nil, errors.New("SETITEMS with an odd number of items")
			}
			d, err := u.topDict()
			if err != nil {
				return nil, err
			}
			for i := 0; i < len(items); i += 2 {
				if err := d.set(items[i], items[i+1]); err != nil {
					return nil, err
				}
			}
		case 'q': // BINPUT
			i, err := s.uint(1)
			if err != nil {
				return nil, err
			}
			if err := u.memoPut(i); err != nil {
				return nil, err
			}
		case 'r': // LONG_BINPUT
			i, err := s.uint(4)
			if err != nil {
				return nil, err
			}
			if err := u.memoPut(i); err != nil {
				return nil, err
			}
		case 0x94: // MEMOIZE
			if err := u.memoPut(uint64(len(u.memo))); err != nil {
				return nil, err
			}
		case 'h': // BINGET
			i, err := s.uint(1)
			if err != nil {
				return nil, err
			}
			if err := u.memoGet(i); err != nil {
				return nil, err
			}
		case 'j': // LONG_BINGET
			i, err := s.uint(4)
			if err != nil {
				return nil, err
			}
			if err := u.memoGet(i); err != nil {
				return nil, err
			}
		case 'c': // GLOBAL
			module, err := s.line()
			if err != nil {
				return nil, err
			}
			name, err := s.line()
			if err != nil {
				return nil, err
			}
			if err := u.global(module, name); err != nil {
				return nil, err
			}
		case 0x93: // STACK_GLOBAL
			nv, err := u.pop()
			if err != nil {
				return nil, err
			}
			mv, err := u.pop()
			if err != nil {
				return nil, err
			}
			module, ok1 := mv.(string)
			name, ok2 := nv.(string)
			if !ok1 || !ok2 {
				return nil, errors.New("STACK_GLOBAL needs two strings")
			}
			if err := u.global(module, name); err != nil {
				return nil, err
			}
		case 'R': // REDUCE
			args, err := u.pop()
			if err != nil {
				return nil, err
			}
			fn, err := u.pop()
			if err != nil {
				return nil, err
			}
			v, err := reduce(fn, args)
			if err != nil {
				return nil, err
			}
			u.push(v)
		case 'b': // BUILD
			state, err := u.pop()
			if err != nil {
				return nil, err
			}
			obj, err := u.top()
			if err != nil {
				return nil, err
			}
			if err := build(obj, state); err != nil {
				return nil, err
			}
		case 'Q': // BINPERSID
			pid, err := u.pop()
			if err != nil {
				return nil, err
			}
			v, err := u.persistentLoad(pid)
			if err != nil {
				return nil, err
			}
			u.push(v)
		default:
			if name, ok := knownOpcodes[op]; ok {
				return nil, fmt.Errorf("unsupported pickle opcode %s (0x%02x)", name, op)
			}
			return nil, fmt.Errorf("invalid pickle opcode 0x%02x", op)
		}
	}
}

// knownOpcodes names the pickle opcodes this unpickler refuses, for errors.
var knownOpcodes = map[byte]string{
	'I': "INT", 'L': "LONG", 'F': "FLOAT", 'S': "STRING", 'V': "UNICODE",
	'P': "PERSID", 'g': "GET", 'p': "PUT", 'i': "INST", 'o': "OBJ",
	'd': "DICT", 'l': "LIST", '2': "DUP", 0x81: "NEWOBJ", 0x92: "NEWOBJ_EX",
	0x82: "EXT1", 0x83: "EXT2", 0x84: "EXT4", 0x8f: "EMPTY_SET",
	0x90: "ADDITEMS", 0x91: "FROZENSET", 0x96: "BYTEARRAY8",
	0x97: "NEXT_BUFFER", 0x98: "READONLY_BUFFER",
}

func (u *unpickler) topList() (*pyList, error) {
	v, err := u.top()
	if err != nil {
		return nil, err
	}
	l, ok := v.(*pyList)
	if !ok {
		return nil, fmt.Errorf("APPEND to a %s", typeName(v))
	}
	return l, nil
}

func (u *unpickler) topDict() (*pyDict, error) {
	v, err := u.top()
	if err != nil {
		return nil, err
	}
	d, ok := v.(*pyDict)
	if !ok {
		return nil, fmt.Errorf("SETITEM on a %s", typeName(v))
	}
	return d, nil
}

// decodeLong decodes a little-endian two's-complement integer.
func decodeLong(b []byte) any {
	if len(b) == 0 {
		return int64(0)
	}
	if len(b) > 8 {
		// Fits in an int64 only if the extra bytes are sign extension.
		ext := byte(0)
		if b[7]&0x80 != 0 {
			ext = 0xff
		}
		for _, c := range b[8:] {
			if c != ext {
				return bigInt{le: string(b)}
			}
		}
		b = b[:8]
	}
	var v uint64
	for i := len(b) - 1; i >= 0; i-- {
		v = v<<8 | uint64(b[i])
	}
	if n := uint(len(b)) * 8; n < 64 && b[len(b)-1]&0x80 != 0 {
		v |= ^uint64(0) << n // sign-extend
	}
	return int64(v)
}

// build applies BUILD: only a dict's attributes (OrderedDict._metadata of a
// state_dict) may be set, and they are dropped.
func build(obj, state any) error {
	if _, ok := obj.(*pyDict); ok {
		switch state.(type) {
		case nil, *pyDict, pyTuple:
			return nil
		}
		return fmt.Errorf("BUILD of a dict with a %s state", typeName(state))
	}
	return fmt.Errorf("BUILD on a %s is not allowed", typeName(obj))
}

// reduce applies an allowed callable to its arguments, in Go.
func reduce(fn, argv any) (any, error) {
	g, ok := fn.(*pyGlobal)
	if !ok {
		return nil, fmt.Errorf("REDUCE on a %s", typeName(fn))
	}
	args, ok := argv.(pyTuple)
	if !ok {
		return nil, fmt.Errorf("%s: arguments are a %s, not a tuple", g.name, typeName(argv))
	}
	switch g.kind {
	case gOrderedDict:
		d := newDict()
		if len(args) == 0 {
			return d, nil
		}
		if len(args) == 1 {
			if l, ok := args[0].(*pyList); ok {
				for _, it := range l.items {
					var kv []any
					switch p := it.(type) {
					case pyTuple:
						kv = p
					case *pyList:
						kv = p.items
					}
					if len(kv) != 2 {
						return nil, fmt.Errorf("%s: item is not a pair", g.name)
					}
					if err := d.set(kv[0], kv[1]); err != nil {
						return nil, err
					}
				}
				return d, nil
			}
		}
		return nil, fmt.Errorf("%s: unsupported arguments", g.name)
	case gRebuildTensor, gRebuildTensorV2:
		if g.kind == gRebuildTensor && len(args) != 4 || g.kind == gRebuildTensorV2 && len(args) != 6 && len(args) != 7 {
			return nil, fmt.Errorf("%s: %d arguments", g.name, len(args))
		}
		st, ok := args[0].(*storageRef)
		if !ok {
			return nil, fmt.Errorf("%s: storage is a %s", g.name, typeName(args[0]))
		}
		off, ok := args[1].(int64)
		if !ok || off < 0 {
			return nil, fmt.Errorf("%s: bad storage offset", g.name)
		}
		size, err := intTuple(args[2])
		if err != nil {
			return nil, fmt.Errorf("%s: size: %w", g.name, err)
		}
		stride, err := intTuple(args[3])
		if err != nil {
			return nil, fmt.Errorf("%s: stride: %w", g.name, err)
		}
		if len(size) != len(stride) {
			return nil, fmt.Errorf("%s: %d sizes but %d strides", g.name, len(size), len(stride))
		}
		return &tensorRef{storage: st, offset: off, size: size, stride: stride}, nil
	case gRebuildParameter, gRebuildParameterWithState:
		if g.kind == gRebuildParameter && len(args) != 3 || g.kind == gRebuildParameterWithState && len(args) != 4 {
			return nil, fmt.Errorf("%s: %d arguments", g.name, len(args))
		}
		t, ok := args[0].(*tensorRef)
		if !ok {
			return nil, fmt.Errorf("%s: data is a %s", g.name, typeName(args[0]))
		}
		return t, nil
	case gRebuildFromTypeV2:
		if len(args) != 4 {
			return nil, fmt.Errorf("%s: %d arguments", g.name, len(args))
		}
		f, ok := args[0].(*pyGlobal)
		if !ok || f.kind != gRebuildTensorV2 && f.kind != gRebuildTensor && f.kind != gRebuildParameter {
			return nil, fmt.Errorf("%s: unsupported function", g.name)
		}
		if c, ok := args[1].(*pyGlobal); !ok || c.kind != gTensorClass {
			return nil, fmt.Errorf("%s: unsupported type", g.name)
		}
		return reduce(f, args[2])
	}
	return nil, fmt.Errorf("%s cannot be called", g.name)
}

// intTuple converts a tuple of ints (a size or stride).
func intTuple(v any) ([]int64, error) {
	t, ok := v.(pyTuple)
	if !ok {
		return nil, fmt.Errorf("a %s, not a tuple", typeName(v))
	}
	out := make([]int64, len(t))
	for i, x := range t {
		n, ok := x.(int64)
		if !ok {
			return nil, fmt.Errorf("element %d is a %s", i, typeName(x))
		}
		out[i] = n
	}
	return out, nil
}

// typeName names the Python type of an unpickled value, for errors. It
// never formats the value itself (which may be cyclic).
func typeName(v any) string {
	switch v := v.(type) {
	case nil:
		return "None"
	case bool:
		return "bool"
	case int64, bigInt:
		return "int"
	case float64:
		return "float"
	case string:
		return "str"
	case pyBytes:
		return "bytes"
	case pyTuple:
		return "tuple"
	case *pyList:
		return "list"
	case *pyDict:
		return "dict"
	case *pyGlobal:
		return v.name
	case *storageRef:
		return "storage"
	case *tensorRef:
		return "tensor"
	}
	return fmt.Sprintf("%T", v)
}
