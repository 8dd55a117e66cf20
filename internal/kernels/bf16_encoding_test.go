//go:build amd64 && !purego

package kernels

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestBF16Encodings checks every BYTE-encoded instruction of bf16_amd64.s
// (AMX and AVX-512 BF16, which Go's assembler cannot spell) against GNU as:
// the Intel-syntax comment of each line is assembled with as and
// disassembled with objdump, and the bytes must be the same. It is skipped
// where binutils are not installed (apt-get install binutils).
func TestBF16Encodings(t *testing.T) {
	asPath, err1 := exec.LookPath("as")
	objdump, err2 := exec.LookPath("objdump")
	if err1 != nil || err2 != nil {
		t.Skip("GNU as/objdump not installed")
	}
	src, err := os.ReadFile("bf16_amd64.s")
	if err != nil {
		t.Fatal(err)
	}
	line := regexp.MustCompile(`^\s*((?:BYTE \$0x[0-9a-f]{2};? ?)+)// (.+)$`)
	type insn struct {
		want  []byte
		intel string
	}
	seen := map[string]bool{}
	var insns []insn
	for _, l := range strings.Split(string(src), "\n") {
		m := line.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if seen[m[2]] {
			continue
		}
		seen[m[2]] = true
		var b []byte
		for _, f := range strings.Split(m[1], ";") {
			f = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(f), "BYTE $0x"))
			if f == "" {
				continue
			}
			v, err := strconv.ParseUint(f, 16, 8)
			if err != nil {
				t.Fatalf("bad byte %q in %q", f, l)
			}
			b = append(b, byte(v))
		}
		insns = append(insns, insn{b, m[2]})
	}
	if len(insns) < 20 {
		t.Fatalf("found only %d encoded instructions", len(insns))
	}
	dir := t.TempDir()
	var gas bytes.Buffer
	gas.WriteString(".intel_syntax noprefix\n.text\n")
	for _, in := range insns {
		gas.WriteString(in.intel + "\n")
	}
	if err := os.WriteFile(filepath.Join(dir, "x.s"), gas.Bytes(), 0o666); err != nil {
		t.Fatal(err)
	}
	obj := filepath.Join(dir, "x.o")
	if out, err := exec.Command(asPath, "-o", obj, filepath.Join(dir, "x.s")).CombinedOutput(); err != nil {
		t.Fatalf("as: %v\n%s", err, out)
	}
	out, err := exec.Command(objdump, "-d", "-M", "intel", obj).Output()
	if err != nil {
		t.Fatalf("objdump: %v", err)
	}
	// objdump lines: "   0:	c4 e2 78 49 00       	ldtilecfg [rax]"
	dis := regexp.MustCompile(`^\s*[0-9a-f]+:\t((?:[0-9a-f]{2} )+)\s*\t(.*)$`)
	var got [][]byte
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		m := dis.FindStringSubmatch(sc.Text())
		if m == nil {
			continue
		}
		var b []byte
		for _, f := range strings.Fields(m[1]) {
			v, _ := strconv.ParseUint(f, 16, 8)
			b = append(b, byte(v))
		}
		got = append(got, b)
	}
	if len(got) != len(insns) {
		t.Fatalf("objdump shows %d instructions, want %d:\n%s", len(got), len(insns), out)
	}
	for i, in := range insns {
		if !bytes.Equal(got[i], in.want) {
			t.Errorf("%s: bf16_amd64.s has % x, GNU as gives % x", in.intel, in.want, got[i])
		}
	}
	t.Logf("%d distinct encodings checked", len(insns))
}
