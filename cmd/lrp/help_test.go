package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
)

// TestMain lets a test run the real main (exit status, stdout, stderr):
// with LRP_TEST_MAIN=1 the test binary is the lrp command.
func TestMain(m *testing.M) {
	if os.Getenv("LRP_TEST_MAIN") == "1" {
		os.Args = append([]string{"lrp"}, os.Args[1:]...)
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// runMain runs the test binary as lrp with args.
func runMain(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "LRP_TEST_MAIN=1")
	var o, e bytes.Buffer
	cmd.Stdout, cmd.Stderr = &o, &e
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatal(err)
	}
	return o.String(), e.String(), code
}

func TestHelpExitStatus(t *testing.T) {
	for _, c := range []struct {
		args     []string
		code     int
		out, err string // substrings of stdout and stderr ("" for empty)
	}{
		{[]string{"explain", "--help"}, 0, "Usage: lrp explain", ""},
		{[]string{"explain", "-h"}, 0, "-composite", ""},
		{[]string{"evaluate", "--model", "mnist", "-h"}, 0, "Usage: lrp evaluate", ""},
		{[]string{"help", "predict"}, 0, "Usage: lrp predict", ""},
		{[]string{"help", "sweep", "merge"}, 0, "Usage: lrp sweep merge", ""},
		{[]string{"help"}, 0, "Commands:", ""},
		{nil, 0, "Commands:", ""},
		{[]string{"--version"}, 0, "lrp ", ""},
		{[]string{"version"}, 0, "lrp ", ""},
		{[]string{"frobnicate"}, 2, "", "unknown command \"frobnicate\" (commands: demo, evaluate, explain"},
		{[]string{"help", "frobnicate"}, 2, "", "unknown command"},
		{[]string{"inpaint", "--bogus"}, 2, "", "-bogus (run 'lrp inpaint -h' for the flags)"},
	} {
		stdout, stderr, code := runMain(t, c.args...)
		if code != c.code {
			t.Errorf("lrp %v: exit status %d, want %d (stderr %q)", c.args, code, c.code, stderr)
		}
		if c.out == "" && stdout != "" || !strings.Contains(stdout, c.out) {
			t.Errorf("lrp %v: stdout %q, want it to contain %q", c.args, stdout, c.out)
		}
		if c.err == "" && stderr != "" || !strings.Contains(stderr, c.err) {
			t.Errorf("lrp %v: stderr %q, want it to contain %q", c.args, stderr, c.err)
		}
		if c.code != 0 && strings.Count(stderr, "\n") != 1 {
			t.Errorf("lrp %v: stderr is not one line: %q", c.args, stderr)
		}
	}
}

func TestHelpOfEachCommand(t *testing.T) {
	for _, name := range commandNames() {
		var a, b bytes.Buffer
		if err := run([]string{"help", name}, &a); err != nil {
			t.Fatalf("help %s: %v", name, err)
		}
		if err := run([]string{name, "--help"}, &b); err != nil {
			t.Fatalf("%s --help: %v", name, err)
		}
		if !strings.HasPrefix(a.String(), "Usage: lrp "+name) || !strings.Contains(a.String(), commands[name].summary) || !strings.Contains(a.String(), "Flags:") {
			t.Errorf("help %s:\n%s", name, a.String())
		}
		if a.String() != b.String() {
			t.Errorf("'help %s' and '%s --help' differ", name, name)
		}
	}
	var v bytes.Buffer
	if err := run([]string{"--version"}, &v); err != nil || v.String() != "lrp "+toolVersion()+"\n" {
		t.Errorf("--version printed %q, %v", v.String(), err)
	}
}
