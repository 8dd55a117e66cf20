//go:build unix

package main

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"testing"
	"time"
)

// Ctrl-C during a dataset run: the built binary stops after the current
// batch, keeps what it finished (every relevance file with its sidecar)
// and exits with 130.
func TestInterruptExits130(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	tmp := t.TempDir()
	bin := filepath.Join(tmp, "lrp")
	build := exec.Command(filepath.Join(runtime.GOROOT(), "bin", "go"), "build", "-o", bin, ".")
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	samples, _ := filepath.Glob("../../models/samples/mnist/*.png")
	if len(samples) == 0 {
		t.Fatal("no mnist samples")
	}
	data := filepath.Join(tmp, "data")
	os.Mkdir(data, 0o755)
	const total = 4000
	for i := 0; i < total; i++ {
		b, err := os.ReadFile(samples[i%len(samples)])
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(data, fmt.Sprintf("%05d.png", i)), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	out := filepath.Join(tmp, "out")
	cmd := exec.Command(bin, "explain", "--data", data, "--batch-size", "1", "--composite", "epsilon-plus", "--out", out)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(out, "relevance-*.npy.json")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			cmd.Process.Kill()
			t.Fatalf("no output after 60 s; stderr:\n%s", stderr.String())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if err := cmd.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := cmd.Wait()
	if code := cmd.ProcessState.ExitCode(); code != 130 {
		t.Fatalf("exit status %d (%v), want 130; stderr:\n%s", code, err, stderr.String())
	}
	npys, _ := filepath.Glob(filepath.Join(out, "relevance-*.npy"))
	if len(npys) == 0 || len(npys) >= total {
		t.Errorf("%d of %d relevance files written", len(npys), total)
	}
	for _, f := range npys {
		if _, err := os.Stat(f + ".json"); err != nil {
			t.Errorf("%s has no sidecar: %v", f, err)
		}
	}
	if !bytes.Contains(stderr.Bytes(), []byte("interrupted")) {
		t.Errorf("stderr does not say it was interrupted:\n%s", stderr.String())
	}
}
