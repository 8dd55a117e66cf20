package tensor

import (
	"bufio"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"slices"
	"strconv"
	"strings"

	"github.com/xai-go/lrp/internal/outfile"
)

// NumPy .npy format, as documented in numpy.lib.format:
//
//	"\x93NUMPY" major minor HEADER_LEN HEADER DATA
//
// HEADER_LEN is a little-endian uint16 in version 1.0 and a uint32 in
// versions 2.0 and 3.0 (3.0 encodes the header in UTF-8 instead of
// latin-1). HEADER is a Python dict literal with the keys 'descr' (the
// dtype string, e.g. '<f4'), 'fortran_order' and 'shape', padded with
// spaces and ended by '\n' so that the data starts at a multiple of 64.

const (
	npyMagic = "\x93NUMPY"
	// npyMaxHeader is the largest header accepted when reading.
	npyMaxHeader = 64 << 10
	// npyMaxElements is the largest element count accepted when reading.
	npyMaxElements = 1<<31 - 1
	// npyChunk is the size of the buffer used to convert data.
	npyChunk = 64 << 10
)

// npyError returns an error for the internal functions; the exported
// functions add the "npy: " prefix (and the path, for files).
func npyError(format string, args ...any) error {
	return fmt.Errorf(format, args...)
}

// npyDtype describes an element type that ReadNpy can convert.
type npyDtype struct {
	kind      byte // 'f', 'i', 'u' or 'b'
	size      int  // bytes per element
	bigEndian bool
}

// parseDescr parses a dtype string such as '<f4'.
func parseDescr(descr string) (npyDtype, error) {
	if len(descr) != 3 {
		return npyDtype{}, npyError("unsupported dtype %q (want one of <f4, <f8, <f2, |u1, |i1, <i2, <i4, <i8, <u2, <u4, <u8, |b1, or big-endian >)", descr)
	}
	d := npyDtype{kind: descr[1], size: int(descr[2] - '0')}
	valid := false
	switch d.kind {
	case 'f':
		valid = d.size == 2 || d.size == 4 || d.size == 8
	case 'i', 'u':
		valid = d.size == 1 || d.size == 2 || d.size == 4 || d.size == 8
	case 'b':
		valid = d.size == 1
	}
	if !valid {
		return npyDtype{}, npyError("unsupported dtype %q (want one of <f4, <f8, <f2, |u1, |i1, <i2, <i4, <i8, <u2, <u4, <u8, |b1, or big-endian >)", descr)
	}
	switch descr[0] {
	case '<':
	case '>':
		d.bigEndian = true
	case '|', '=':
		if d.size != 1 {
			return npyDtype{}, npyError("dtype %q: byte order %q is ambiguous for %d-byte elements", descr, descr[0], d.size)
		}
	default:
		return npyDtype{}, npyError("dtype %q: unknown byte order %q", descr, descr[0])
	}
	return d, nil
}

// convert decodes the elements in src into dst (len(dst)*d.size bytes).
// It returns the index of the first finite float64 that rounds to ±Inf
// in float32, or -1.
func (d npyDtype) convert(dst []float32, src []byte) (overflow int) {
	overflow = -1
	var order binary.ByteOrder = binary.LittleEndian
	if d.bigEndian {
		order = binary.BigEndian
	}
	switch {
	case d.kind == 'f' && d.size == 4:
		for i := range dst {
			dst[i] = math.Float32frombits(order.Uint32(src[4*i:]))
		}
	case d.kind == 'f' && d.size == 8:
		for i := range dst {
			v := math.Float64frombits(order.Uint64(src[8*i:]))
			dst[i] = float32(v) // round to nearest, ties to even
			if overflow < 0 && math.IsInf(float64(dst[i]), 0) && !math.IsInf(v, 0) {
				overflow = i
			}
		}
	case d.kind == 'f' && d.size == 2:
		for i := range dst {
			dst[i] = halfToFloat32(order.Uint16(src[2*i:]))
		}
	case d.kind == 'u' && d.size == 1, d.kind == 'b':
		for i := range dst {
			dst[i] = float32(src[i])
		}
	case d.kind == 'i' && d.size == 1:
		for i := range dst {
			dst[i] = float32(int8(src[i]))
		}
	case d.kind == 'u' && d.size == 2:
		for i := range dst {
			dst[i] = float32(order.Uint16(src[2*i:]))
		}
	case d.kind == 'i' && d.size == 2:
		for i := range dst {
			dst[i] = float32(int16(order.Uint16(src[2*i:])))
		}
	case d.kind == 'u' && d.size == 4:
		for i := range dst {
			dst[i] = float32(order.Uint32(src[4*i:]))
		}
	case d.kind == 'i' && d.size == 4:
		for i := range dst {
			dst[i] = float32(int32(order.Uint32(src[4*i:])))
		}
	case d.kind == 'u' && d.size == 8:
		for i := range dst {
			dst[i] = float32(order.Uint64(src[8*i:]))
		}
	case d.kind == 'i' && d.size == 8:
		for i := range dst {
			dst[i] = float32(int64(order.Uint64(src[8*i:])))
		}
	}
	return overflow
}

// halfToFloat32 converts an IEEE 754 half-precision bit pattern to float32.
func halfToFloat32(h uint16) float32 {
	sign := uint32(h>>15) << 31
	exp := uint32(h>>10) & 0x1f
	mant := uint32(h) & 0x3ff
	switch {
	case exp == 0x1f: // Inf or NaN
		return math.Float32frombits(sign | 0xff<<23 | mant<<13)
	case exp != 0:
		return math.Float32frombits(sign | (exp+127-15)<<23 | mant<<13)
	}
	f := float32(mant) * (1.0 / (1 << 24)) // zero or subnormal
	if sign != 0 {
		f = -f
	}
	return f
}

// ReadNpy reads one array in NumPy .npy format (versions 1.0, 2.0 and 3.0)
// from r and returns it as a float32 tensor in row-major order.
//
// Supported dtypes are float32, float64 and float16, the signed and
// unsigned integers of 1 to 8 bytes and bool, little- or big-endian, all
// converted to float32 (float64 and large integers lose precision).
// Fortran-order arrays are transposed to row-major order. The header may be
// at most 64 KiB and the array at most 2^31 elements; memory grows with the
// data actually read, so a header that declares more data than r holds is
// an error, not a large allocation. ReadNpy reads nothing past the array's
// data. Errors start with "npy: ".
func ReadNpy(r io.Reader) (*T, error) {
	t, err := readNpy(r, false)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	return t, nil
}

// readNpy reads an array; with data set, only floating-point dtypes are
// accepted, float64 values beyond float32's range are an error, and so is
// any NaN or ±Inf.
func readNpy(r io.Reader, data bool) (*T, error) {
	var pre [8]byte
	if _, err := io.ReadFull(r, pre[:]); err != nil {
		return nil, npyError("reading magic: %w", eofIsUnexpected(err))
	}
	if string(pre[:6]) != npyMagic {
		return nil, npyError("not a .npy file: magic %q, want %q", pre[:6], npyMagic)
	}
	major, minor := pre[6], pre[7]
	var hlen int
	switch {
	case major == 1 && minor == 0:
		var b [2]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, npyError("reading header length: %w", eofIsUnexpected(err))
		}
		hlen = int(binary.LittleEndian.Uint16(b[:]))
	case (major == 2 || major == 3) && minor == 0:
		var b [4]byte
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return nil, npyError("reading header length: %w", eofIsUnexpected(err))
		}
		n := binary.LittleEndian.Uint32(b[:])
		if n > npyMaxHeader {
			return nil, npyError("header length %d exceeds the limit of %d bytes", n, npyMaxHeader)
		}
		hlen = int(n)
	default:
		return nil, npyError("unsupported format version %d.%d (want 1.0, 2.0 or 3.0)", major, minor)
	}
	header := make([]byte, hlen)
	if _, err := io.ReadFull(r, header); err != nil {
		return nil, npyError("reading %d-byte header: %w", hlen, eofIsUnexpected(err))
	}
	h, err := parseNpyHeader(string(header))
	if err != nil {
		return nil, err
	}
	dt, err := parseDescr(h.descr)
	if err != nil {
		return nil, err
	}
	if data && dt.kind != 'f' {
		return nil, npyError("dtype %q is not floating point: give the data as float32 (for example x.astype(numpy.float32), after scaling and normalizing it as the model expects)", h.descr)
	}
	n := 1
	for _, d := range h.shape {
		if d == 0 {
			n = 0
			break
		}
	}
	if n != 0 {
		for _, d := range h.shape {
			if d > npyMaxElements/n {
				return nil, npyError("shape %v has more than %d elements", h.shape, npyMaxElements)
			}
			n *= d
		}
	}
	values, overflow, err := readNpyData(r, dt, n)
	if err != nil {
		return nil, err
	}
	if data && overflow >= 0 {
		return nil, npyError("float64 element %d (in file order) is beyond float32's range (±%g)", overflow, math.MaxFloat32)
	}
	if h.fortran && len(h.shape) > 1 {
		values = fortranToC(values, h.shape)
	}
	t := &T{Shape: h.shape, Data: values}
	if data {
		if err := CheckFinite(t); err != nil {
			return nil, err
		}
	}
	return t, nil
}

// eofIsUnexpected turns io.EOF into io.ErrUnexpectedEOF: any end of input
// inside a .npy file means it is truncated.
func eofIsUnexpected(err error) error {
	if errors.Is(err, io.EOF) {
		return io.ErrUnexpectedEOF
	}
	return err
}

// readNpyData reads n elements of type dt from r, growing the result as
// data arrives rather than trusting n for the allocation.
func readNpyData(r io.Reader, dt npyDtype, n int) (data []float32, overflow int, err error) {
	overflow = -1
	data = make([]float32, 0, min(n, npyChunk))
	buf := make([]byte, min(n*dt.size, npyChunk)) // npyChunk is a multiple of every size
	for len(data) < n {
		k := min(n-len(data), len(buf)/dt.size)
		got, err := io.ReadFull(r, buf[:k*dt.size])
		if err != nil {
			if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
				return nil, -1, npyError("data truncated: %d of %d bytes present (%d elements of %d bytes)",
					len(data)*dt.size+got, n*dt.size, n, dt.size)
			}
			return nil, -1, npyError("reading data: %w", err)
		}
		data = slices.Grow(data, k)[:len(data)+k]
		if o := dt.convert(data[len(data)-k:], buf[:k*dt.size]); o >= 0 && overflow < 0 {
			overflow = len(data) - k + o
		}
	}
	return data, overflow, nil
}

// fortranToC returns the column-major data of an array of the given shape
// in row-major order.
func fortranToC(src []float32, shape []int) []float32 {
	dst := make([]float32, len(src))
	if len(src) == 0 {
		return dst
	}
	nd := len(shape)
	cstride := make([]int, nd) // row-major strides
	s := 1
	for k := nd - 1; k >= 0; k-- {
		cstride[k] = s
		s *= shape[k]
	}
	idx := make([]int, nd)
	off := 0 // row-major offset of idx
	for _, v := range src {
		dst[off] = v
		// Advance idx in column-major order: axis 0 fastest.
		for k := 0; k < nd; k++ {
			idx[k]++
			off += cstride[k]
			if idx[k] < shape[k] {
				break
			}
			off -= idx[k] * cstride[k]
			idx[k] = 0
		}
	}
	return dst
}

// WriteNpy writes t to w in NumPy .npy format version 1.0 with dtype '<f4'
// (version 2.0 if the header would not fit in 64 KiB, which takes a shape
// with thousands of dimensions). Errors start with "npy: ".
func WriteNpy(w io.Writer, t *T) error {
	if err := writeNpy(w, t); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

func writeNpy(w io.Writer, t *T) error {
	if t == nil {
		return npyError("nil tensor")
	}
	n := 1
	for _, d := range t.Shape {
		if d < 0 {
			return npyError("negative dimension in shape %v", t.Shape)
		}
		if d != 0 && n > math.MaxInt/d {
			return npyError("shape %v overflows", t.Shape)
		}
		n *= d
	}
	if n != len(t.Data) {
		return npyError("tensor has %d elements, its shape %v needs %d", len(t.Data), t.Shape, n)
	}
	header := npyHeaderString(t.Shape)
	var pre []byte
	if len(header)+10 <= math.MaxUint16 {
		pre = npyPrelude(1, header)
	} else {
		pre = npyPrelude(2, header)
	}
	if _, err := w.Write(pre); err != nil {
		return npyError("writing header: %w", err)
	}
	buf := make([]byte, min(4*len(t.Data), npyChunk))
	for data := t.Data; len(data) > 0; {
		k := min(len(data), len(buf)/4)
		for i, v := range data[:k] {
			binary.LittleEndian.PutUint32(buf[4*i:], math.Float32bits(v))
		}
		if _, err := w.Write(buf[:4*k]); err != nil {
			return npyError("writing data: %w", err)
		}
		data = data[k:]
	}
	return nil
}

// npyHeaderString returns the header dict for a C-order '<f4' array, in
// the form numpy writes it, without padding.
func npyHeaderString(shape []int) string {
	var sb strings.Builder
	sb.WriteString("{'descr': '<f4', 'fortran_order': False, 'shape': (")
	for i, d := range shape {
		if i > 0 {
			sb.WriteString(", ")
		}
		sb.WriteString(strconv.Itoa(d))
	}
	if len(shape) == 1 {
		sb.WriteByte(',')
	}
	sb.WriteString("), }")
	return sb.String()
}

// npyPrelude returns magic, version, header length and the header padded
// with spaces and ended by '\n' so that its total length is a multiple of 64.
func npyPrelude(major byte, header string) []byte {
	lenSize := 2
	if major >= 2 {
		lenSize = 4
	}
	fixed := len(npyMagic) + 2 + lenSize
	total := fixed + len(header) + 1
	pad := (64 - total%64) % 64
	hlen := len(header) + pad + 1
	b := make([]byte, 0, fixed+hlen)
	b = append(b, npyMagic...)
	b = append(b, major, 0)
	if lenSize == 2 {
		b = binary.LittleEndian.AppendUint16(b, uint16(hlen))
	} else {
		b = binary.LittleEndian.AppendUint32(b, uint32(hlen))
	}
	b = append(b, header...)
	b = append(b, strings.Repeat(" ", pad)...)
	return append(b, '\n')
}

// LoadNpy reads the .npy file at path; see ReadNpy.
func LoadNpy(path string) (*T, error) { return loadNpy(path, false) }

// loadNpy reads the .npy file at path, as data (see LoadNpyData) if data
// is set.
func loadNpy(path string, data bool) (*T, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("npy: %w", err)
	}
	defer f.Close()
	t, err := readNpy(bufio.NewReaderSize(f, npyChunk), data)
	if err != nil {
		return nil, fmt.Errorf("npy: %s: %w", path, err)
	}
	return t, nil
}

// LoadNpyData reads the .npy file at path as data for a model (inputs,
// relevance, box bounds) and is stricter than LoadNpy:
//
//   - the dtype must be floating point (float16, float32 or float64);
//     integer and bool arrays are refused, since whether they hold raw
//     pixels or already normalized values cannot be told;
//   - float64 values are rounded to the nearest float32 (ties to even, as
//     NumPy's astype(float32) does); a finite value beyond float32's range
//     is an error instead of becoming ±Inf;
//   - every element must be finite: the error names the first NaN or
//     ±Inf by its index.
//
// Errors start with "npy: " and name the file.
func LoadNpyData(path string) (*T, error) { return loadNpy(path, true) }

// SaveNpy writes t to the file at path in .npy format; see WriteNpy. It
// writes through internal/outfile: a temporary file in the same directory
// renamed to path when complete, so that path is either left as it was or
// holds the complete array; the file is created with mode 0666 minus the
// umask, missing parent directories are created, and anything at path
// that is not a regular file (or a link to one) is refused.
func SaveNpy(path string, t *T) error {
	if err := outfile.WriteWith(path, func(w io.Writer) error { return writeNpy(w, t) }); err != nil {
		return fmt.Errorf("npy: %w", err)
	}
	return nil
}

// npyHeader is the content of a parsed header dict.
type npyHeader struct {
	descr   string
	fortran bool
	shape   []int
}

// parseNpyHeader parses the header dict, a Python literal such as
// {'descr': '<f4', 'fortran_order': False, 'shape': (2, 3), }
// followed by optional whitespace.
func parseNpyHeader(s string) (npyHeader, error) {
	p := &headerParser{s: s}
	h, err := p.parse()
	if err != nil {
		return npyHeader{}, npyError("bad header %s: %v", quoteHeader(s), err)
	}
	return h, nil
}

// quoteHeader quotes a header for an error message, shortened if long.
func quoteHeader(s string) string {
	const max = 120
	if len(s) > max {
		return strconv.Quote(s[:max]) + "..."
	}
	return strconv.Quote(s)
}

// Token kinds of the header tokenizer.
const (
	tokEOF    = iota
	tokPunct  // one of { } ( ) [ ] , :
	tokString // a quoted string; val is its content
	tokName   // an identifier such as True
	tokInt    // a non-negative decimal integer, optionally with an L suffix
)

type token struct {
	kind int
	val  string
	pos  int
}

func (t token) String() string {
	switch t.kind {
	case tokEOF:
		return "end of header"
	case tokString:
		return strconv.Quote(t.val)
	}
	return "'" + t.val + "'"
}

// headerParser is a recursive-descent parser over a tiny tokenizer for
// the Python literals that appear in .npy headers.
type headerParser struct {
	s   string
	pos int
	tok token // current token
}

// next reads the next token into p.tok.
func (p *headerParser) next() error {
	for p.pos < len(p.s) && strings.IndexByte(" \t\r\n", p.s[p.pos]) >= 0 {
		p.pos++
	}
	start := p.pos
	if p.pos == len(p.s) {
		p.tok = token{kind: tokEOF, pos: start}
		return nil
	}
	c := p.s[p.pos]
	switch {
	case strings.IndexByte("{}()[],:", c) >= 0:
		p.pos++
		p.tok = token{kind: tokPunct, val: string(c), pos: start}
	case c == '\'' || c == '"':
		var sb strings.Builder
		p.pos++
		for {
			if p.pos >= len(p.s) {
				return fmt.Errorf("unterminated string at offset %d", start)
			}
			ch := p.s[p.pos]
			p.pos++
			if ch == c {
				break
			}
			if ch == '\\' {
				if p.pos >= len(p.s) {
					return fmt.Errorf("unterminated string at offset %d", start)
				}
				ch = p.s[p.pos] // \' \" \\ ; other escapes never occur in dtypes
				p.pos++
			} else if ch == '\n' {
				return fmt.Errorf("newline in string at offset %d", start)
			}
			sb.WriteByte(ch)
		}
		p.tok = token{kind: tokString, val: sb.String(), pos: start}
	case c >= '0' && c <= '9':
		for p.pos < len(p.s) && p.s[p.pos] >= '0' && p.s[p.pos] <= '9' {
			p.pos++
		}
		val := p.s[start:p.pos]
		if p.pos < len(p.s) && (p.s[p.pos] == 'L' || p.s[p.pos] == 'l') { // Python 2 long
			p.pos++
		}
		if p.pos < len(p.s) && isNameByte(p.s[p.pos]) {
			return fmt.Errorf("bad number at offset %d", start)
		}
		p.tok = token{kind: tokInt, val: val, pos: start}
	case isNameByte(c):
		for p.pos < len(p.s) && isNameByte(p.s[p.pos]) {
			p.pos++
		}
		p.tok = token{kind: tokName, val: p.s[start:p.pos], pos: start}
	default:
		return fmt.Errorf("unexpected character %q at offset %d", c, start)
	}
	return nil
}

func isNameByte(c byte) bool {
	return c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

func (p *headerParser) isPunct(s string) bool { return p.tok.kind == tokPunct && p.tok.val == s }

// expect consumes the punctuation s or fails.
func (p *headerParser) expect(s string, what string) error {
	if !p.isPunct(s) {
		return fmt.Errorf("expected '%s' %s, found %v at offset %d", s, what, p.tok, p.tok.pos)
	}
	return p.next()
}

func (p *headerParser) parse() (npyHeader, error) {
	var h npyHeader
	if err := p.next(); err != nil {
		return h, err
	}
	if err := p.expect("{", "at start"); err != nil {
		return h, err
	}
	seen := map[string]bool{}
	for !p.isPunct("}") {
		if p.tok.kind != tokString {
			return h, fmt.Errorf("expected a quoted key, found %v at offset %d", p.tok, p.tok.pos)
		}
		key := p.tok.val
		if seen[key] {
			return h, fmt.Errorf("duplicate key %q", key)
		}
		seen[key] = true
		if err := p.next(); err != nil {
			return h, err
		}
		if err := p.expect(":", "after key "+strconv.Quote(key)); err != nil {
			return h, err
		}
		var err error
		switch key {
		case "descr":
			h.descr, err = p.parseDescr()
		case "fortran_order":
			h.fortran, err = p.parseBool()
		case "shape":
			h.shape, err = p.parseShape()
		default:
			return h, fmt.Errorf("unexpected key %q", key)
		}
		if err != nil {
			return h, fmt.Errorf("%s: %w", key, err)
		}
		if p.isPunct(",") {
			if err := p.next(); err != nil {
				return h, err
			}
		} else if !p.isPunct("}") {
			return h, fmt.Errorf("expected ',' or '}' after %q value, found %v at offset %d", key, p.tok, p.tok.pos)
		}
	}
	if err := p.next(); err != nil { // past '}'
		return h, err
	}
	if p.tok.kind != tokEOF {
		return h, fmt.Errorf("unexpected %v after '}' at offset %d", p.tok, p.tok.pos)
	}
	for _, k := range []string{"descr", "fortran_order", "shape"} {
		if !seen[k] {
			return h, fmt.Errorf("missing key %q", k)
		}
	}
	return h, nil
}

func (p *headerParser) parseDescr() (string, error) {
	switch {
	case p.tok.kind == tokString:
		s := p.tok.val
		return s, p.next()
	case p.isPunct("["):
		return "", errors.New("structured dtypes (a list of fields) are not supported")
	}
	return "", fmt.Errorf("expected a dtype string, found %v at offset %d", p.tok, p.tok.pos)
}

func (p *headerParser) parseBool() (bool, error) {
	if p.tok.kind == tokName && (p.tok.val == "True" || p.tok.val == "False") {
		v := p.tok.val == "True"
		return v, p.next()
	}
	return false, fmt.Errorf("expected True or False, found %v at offset %d", p.tok, p.tok.pos)
}

// parseShape parses a tuple of non-negative integers: (), (5,), (2, 3).
func (p *headerParser) parseShape() ([]int, error) {
	if err := p.expect("(", "to start the shape tuple"); err != nil {
		return nil, err
	}
	shape := []int{}
	for !p.isPunct(")") {
		if p.tok.kind != tokInt {
			return nil, fmt.Errorf("expected a non-negative integer, found %v at offset %d", p.tok, p.tok.pos)
		}
		d, err := strconv.Atoi(p.tok.val)
		if err != nil || d > npyMaxElements {
			return nil, fmt.Errorf("dimension %s is larger than %d", p.tok.val, npyMaxElements)
		}
		shape = append(shape, d)
		if err := p.next(); err != nil {
			return nil, err
		}
		if p.isPunct(",") {
			if err := p.next(); err != nil {
				return nil, err
			}
		} else if !p.isPunct(")") {
			return nil, fmt.Errorf("expected ',' or ')' in shape, found %v at offset %d", p.tok, p.tok.pos)
		} else if len(shape) == 1 {
			return nil, fmt.Errorf("(%d) is not a tuple; a one-dimensional shape is written (%d,)", d, d)
		}
	}
	return shape, p.next()
}
