package weights

import (
	"archive/zip"
	"bytes"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

var updateCorpus = flag.Bool("update-corpus", false, "rewrite the committed fuzz seed corpora under testdata/fuzz")

// fuzzStorages are the storages of the archive that FuzzReadPyTorch wraps
// around its input when it uses it as data.pkl.
var fuzzStorages = map[string][]byte{
	"0": floats(1, -2, 3, -4, 5, 6),
	"1": []byte{7, 0, 0, 0, 0, 0, 0, 0},
}

// dataPkl returns the data.pkl of a torch.save archive in testdata.
func dataPkl(t testing.TB, file string) []byte {
	t.Helper()
	zr, err := zip.OpenReader(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	defer zr.Close()
	for _, f := range zr.File {
		if strings.HasSuffix(f.Name, "/data.pkl") {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			return b
		}
	}
	t.Fatalf("%s has no data.pkl", file)
	return nil
}

func readFile(t testing.TB, file string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", file))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// pytorchSeeds are whole files (legacy format, small archives) and data.pkl
// pickles to be run against fuzzStorages.
func pytorchSeeds(t testing.TB) map[string][]byte {
	param := "ctorch._utils\n_rebuild_parameter\n" + pTuple(pTensor("0", 6, 0, []int64{3, 2}, []int64{1, 3}), "\x88", pEmptyOD) + "R"
	long := pRebuild + pTuple(pTuple(pStr("storage"), "ctorch\nLongStorage\n", pStr("1"), pStr("cpu"), pInt(1))+"Q", pInt(0), pTuple(), pTuple(), pNewFalse, pEmptyOD) + "R"
	proto4 := "\x80\x04\x95\x10\x00\x00\x00\x00\x00\x00\x00\x8c\x0bcollections\x94\x8c\x0bOrderedDict\x94\x93\x94)R\x94(" +
		"\x8c\x01w\x94" + pTensor("0", 6, 2, []int64{2, 2}, []int64{1, 2}) + "\x94\x8c\x01v\x94h\x05u."
	return map[string][]byte{
		"legacy_views":   readFile(t, "views_legacy.pth"),
		"legacy_net":     readFile(t, "net_legacy.pth"),
		"zip_malicious":  readFile(t, "malicious.pth"),
		"zip_small":      torchZip(t, stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{2, 3}, []int64{3, 1})), fuzzStorages),
		"pkl_views":      dataPkl(t, "views.pth"),
		"pkl_checkpoint": dataPkl(t, "checkpoint.pth"),
		"pkl_transposed": stateDictPickle(pStr("w"), pTensor("0", 6, 0, []int64{3, 2}, []int64{1, 3}), pStr("n"), long),
		"pkl_stride0":    stateDictPickle(pStr("w"), pTensor("0", 6, 1, []int64{4, 2}, []int64{0, 2})),
		"pkl_param":      stateDictPickle(pStr("p"), param),
		"pkl_wrapped":    []byte(pProto2 + "}(" + pStr("lr") + "G?\xb9\x99\x99\x99\x99\x99\x9a" + pStr("model") + noStop(stateDictPickle(pStr("w"), pTensor("0", 6, 5, nil, nil))) + "u."),
		"pkl_proto4":     []byte(proto4),
	}
}

func safetensorsSeeds(t testing.TB) map[string][]byte {
	return map[string][]byte{
		"net":   readFile(t, "net.safetensors"),
		"views": readFile(t, "views.safetensors"),
		"small": safetensorsFile(`{"a":{"dtype":"F32","shape":[2,2],"data_offsets":[0,16]},"__metadata__":{"k":"v"},"b":{"dtype":"BF16","shape":[],"data_offsets":[16,18]},"c":{"dtype":"I64","shape":[0,3],"data_offsets":[18,18]}}`, floats(1, 2, 3, 4, 5)[:18]),
		"empty": safetensorsFile(`{}`, nil),
	}
}

// FuzzReadPyTorch reads its input as a file, and as the data.pkl of a
// torch.save archive with fuzzStorages (zip CRCs would otherwise stop most
// mutations before the unpickler).
func FuzzReadPyTorch(f *testing.F) {
	for _, b := range pytorchSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readBytes(b)
		checkResult(t, m, err)
		m, err = readBytes(torchZip(t, b, fuzzStorages))
		checkResult(t, m, err)
	})
}

// FuzzReadSafetensors reads its input as a file.
func FuzzReadSafetensors(f *testing.F) {
	for _, b := range safetensorsSeeds(f) {
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		m, err := readBytes(b)
		checkResult(t, m, err)
		if err == nil && len(b) > 8 && b[8] == '{' && !bytes.HasPrefix(b, []byte("PK")) {
			for name, v := range m {
				if len(v.Data) > len(b) {
					t.Fatalf("%q: %d elements from %d bytes", name, len(v.Data), len(b))
				}
			}
		}
	})
}

// TestSeedsRead checks that the seeds that should load do.
func TestSeedsRead(t *testing.T) {
	for name, b := range pytorchSeeds(t) {
		if name == "zip_malicious" || name == "pkl_views" || name == "pkl_checkpoint" {
			continue
		}
		if strings.HasPrefix(name, "pkl_") {
			b = torchZip(t, b, fuzzStorages)
		}
		if _, err := readBytes(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	for name, b := range safetensorsSeeds(t) {
		if _, err := readBytes(b); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
}

// TestWriteSeedCorpus rewrites the committed fuzz corpora when run with
// -update-corpus; otherwise it checks that they are present.
func TestWriteSeedCorpus(t *testing.T) {
	for target, seeds := range map[string]map[string][]byte{
		"FuzzReadPyTorch":     pytorchSeeds(t),
		"FuzzReadSafetensors": safetensorsSeeds(t),
	} {
		dir := filepath.Join("testdata", "fuzz", target)
		for name, b := range seeds {
			path := filepath.Join(dir, name)
			if !*updateCorpus {
				if _, err := os.Stat(path); err != nil {
					t.Errorf("seed corpus file missing (run go test ./weights -run TestWriteSeedCorpus -args -update-corpus): %v", err)
				}
				continue
			}
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", b), 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
