package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/xai-go/lrp"
	"github.com/xai-go/lrp/internal/outfile"
	"github.com/xai-go/lrp/nn"
	"github.com/xai-go/lrp/tensor"
)

// errInterrupted is returned by a command that stopped early on Ctrl-C
// after writing what it finished; main exits with status 130 for it.
var errInterrupted = errors.New("interrupted (what finished was written)")

// exitCode is the process status for the error a command returned: 0 for
// none (or a help request), 130 (128 + SIGINT) for an interrupted run, 2
// otherwise.
func exitCode(err error) int {
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errInterrupted):
		return 130
	}
	return 2
}

// checkOutputs checks, before any work, every output file and directory a
// command will write; empty names are flags not given.
func checkOutputs(files, dirs []string) error {
	for _, f := range files {
		if f != "" {
			if err := outfile.Check(f); err != nil {
				return err
			}
		}
	}
	for _, d := range dirs {
		if d != "" {
			if err := outfile.CheckDir(d); err != nil {
				return err
			}
		}
	}
	return nil
}

// checkFreshDir refuses an output directory that already holds anything,
// so new results are never mixed with old ones, unless force is set.
func checkFreshDir(dir string, force bool) error {
	if err := outfile.CheckDir(dir); err != nil {
		return err
	}
	if force {
		return nil
	}
	f, err := os.Open(dir)
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("cannot write %s: %w", dir, errors.Unwrap(err))
	}
	defer f.Close()
	names, _ := f.Readdirnames(1)
	if len(names) > 0 {
		return fmt.Errorf("%s is not empty: give an empty or new directory, or --force to write into it (files of the same names are replaced)", dir)
	}
	return nil
}

// sampleHashes returns the SHA-256 of each sample of x (its float32 values,
// little-endian), the identity of a preprocessed input.
func sampleHashes(x *tensor.T) []string {
	n := x.Shape[0]
	per := x.Len() / n
	out := make([]string, n)
	buf := make([]byte, 4*per)
	for i := range out {
		for j, v := range x.Data[i*per : (i+1)*per] {
			binary.LittleEndian.PutUint32(buf[4*j:], math.Float32bits(v))
		}
		s := sha256.Sum256(buf)
		out[i] = hex.EncodeToString(s[:])
	}
	return out
}

// fileSHA256 is the hex SHA-256 of a file's content.
func fileSHA256(path string) (string, error) {
	f, err := os.Open(path)
	if err != nil {
		return "", err
	}
	defer f.Close()
	h := sha256.New()
	if _, err := io.Copy(h, f); err != nil {
		return "", fmt.Errorf("%s: %w", path, err)
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

// modelInfo identifies the model of a run: its --model value and, for
// files, their SHA-256.
type modelInfo struct {
	Name          string `json:"name"`
	SHA256        string `json:"sha256,omitempty"`
	Weights       string `json:"weights,omitempty"`
	WeightsSHA256 string `json:"weights_sha256,omitempty"`
	RandomInit    bool   `json:"random_init,omitempty"`
	NumClasses    int    `json:"num_classes,omitempty"`
}

// info describes the model the flags name.
func (m *modelFlags) info() (*modelInfo, error) {
	mi := &modelInfo{Name: modelName(*m.name), Weights: *m.weights, RandomInit: *m.randomInit, NumClasses: *m.numClasses}
	var err error
	if embeddedOf(*m.name) == nil && !isTorchvision(*m.name) {
		if mi.SHA256, err = fileSHA256(*m.name); err != nil {
			return nil, err
		}
	}
	if *m.weights != "" {
		if mi.WeightsSHA256, err = fileSHA256(*m.weights); err != nil {
			return nil, err
		}
	}
	return mi, nil
}

// methodInfo records an attribution method with everything that chose
// its rules, so a run can be repeated from its results file.
type methodInfo struct {
	Method           string   `json:"method"`
	Composite        string   `json:"composite,omitempty"`
	Epsilon          *float64 `json:"epsilon,omitempty"`
	Gamma            *float64 `json:"gamma,omitempty"`
	Low              string   `json:"low,omitempty"`
	High             string   `json:"high,omitempty"`
	Rules            string   `json:"rules,omitempty"`
	RulesFile        string   `json:"rules_file,omitempty"`
	RulesFileContent string   `json:"rules_file_content,omitempty"`
	// RuleMap is the resulting rule map as a spec (lrp.ParseRuleMap).
	RuleMap string `json:"rule_map,omitempty"`
	Seed    uint64 `json:"seed"`
}

// describeMethod returns the methodInfo of method as newAttributor builds
// it from rf; in is the input set whose preprocessing gave default
// bounds.
func describeMethod(method string, g *nn.Graph, rf *ruleFlags, in *inputSet, seed uint64) (*methodInfo, error) {
	if rf == nil {
		rf = noRuleFlags()
	}
	mi := &methodInfo{Method: method, Seed: seed}
	name, composite, _ := strings.Cut(method, ":")
	if name != "lrp" {
		return mi, nil
	}
	mi.Composite = composite
	if composite == "" {
		mi.Composite, mi.Rules, mi.RulesFile = *rf.composite, *rf.rules, *rf.rulesFile
		if mi.Composite == "" && mi.Rules == "" && mi.RulesFile == "" {
			mi.Composite = lrp.DefaultCompositeFor(g)
			composite = mi.Composite
		}
	}
	if mi.Composite != "" {
		if *rf.epsilon >= 0 {
			mi.Epsilon = rf.epsilon
		}
		if *rf.gamma >= 0 {
			mi.Gamma = rf.gamma
		}
		mi.Low, mi.High = *rf.low, *rf.high
		if in != nil && in.pre != nil {
			if mi.Low == "" {
				mi.Low = "preprocessing " + in.pre.Name + " of 0"
			}
			if mi.High == "" {
				mi.High = "preprocessing " + in.pre.Name + " of 1"
			}
		}
	}
	if mi.RulesFile != "" {
		b, err := os.ReadFile(mi.RulesFile)
		if err != nil {
			return nil, err
		}
		mi.RulesFileContent = string(b)
	}
	flags := *rf
	if composite != "" {
		empty := ""
		flags.composite, flags.rules, flags.rulesFile = &composite, &empty, &empty
	}
	p, err := flags.params(in.pre, in.x.Shape)
	if err != nil {
		return nil, err
	}
	m, err := flags.build(g, p)
	if err != nil {
		return nil, err
	}
	if m != nil {
		mi.RuleMap = m.String()
	}
	return mi, nil
}

// noRuleFlags are rule flags none of which was given (for describeMethod
// where a command has no rule flags, as demo).
func noRuleFlags() *ruleFlags {
	empty, unset := "", -1.0
	return &ruleFlags{composite: &empty, rules: &empty, rulesFile: &empty, epsilon: &unset, gamma: &unset, low: &empty, high: &empty}
}

// inputsInfo identifies the inputs of a run: names, the SHA-256 of every
// preprocessed sample, and the preprocessing.
type inputsInfo struct {
	Source     string   `json:"source,omitempty"` // --input, --data or "images"
	Preprocess string   `json:"preprocess"`
	Names      []string `json:"names"`
	SHA256     []string `json:"sample_sha256"`
}

// add appends one batch of inputs.
func (ii *inputsInfo) add(in *inputSet) {
	ii.Names = append(ii.Names, in.names...)
	ii.SHA256 = append(ii.SHA256, sampleHashes(in.x)...)
	if in.pre != nil {
		ii.Preprocess = in.pre.Name
	} else if ii.Preprocess == "" {
		ii.Preprocess = "none (.npy input used as it is)"
	}
}

// relevanceInfo is the sidecar FILE.npy.json written beside a relevance
// file: which inputs, in which order, it explains, and how.
type relevanceInfo struct {
	Tool    string      `json:"tool"`
	Model   *modelInfo  `json:"model"`
	Method  *methodInfo `json:"method"`
	Inputs  inputsInfo  `json:"inputs"`
	Targets []int       `json:"targets"`
	Shape   []int       `json:"shape"`
}

// sidecarPath is the identity file written beside a relevance .npy.
func sidecarPath(npy string) string { return npy + ".json" }

// writeSidecar writes info beside the relevance file npy.
func writeSidecar(npy string, info *relevanceInfo) error {
	b, err := json.MarshalIndent(info, "", " ")
	if err != nil {
		return err
	}
	return outfile.Write(sidecarPath(npy), append(b, '\n'))
}

// readSidecar reads the identity of the relevance file npy; nil without
// error when there is none.
func readSidecar(npy string) (*relevanceInfo, error) {
	b, err := os.ReadFile(sidecarPath(npy))
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var info relevanceInfo
	if err := json.Unmarshal(b, &info); err != nil {
		return nil, fmt.Errorf("%s: %w", sidecarPath(npy), err)
	}
	if len(info.Inputs.SHA256) != len(info.Inputs.Names) {
		return nil, fmt.Errorf("%s: %d sample hashes for %d inputs", sidecarPath(npy), len(info.Inputs.SHA256), len(info.Inputs.Names))
	}
	return &info, nil
}

// checkPairing refuses relevance whose sidecar names other inputs than
// in, taken as samples offset… of the relevance file.
func checkPairing(npy string, info *relevanceInfo, in *inputSet, offset int) error {
	hashes := sampleHashes(in.x)
	side := sidecarPath(npy)
	if offset+len(hashes) > len(info.Inputs.SHA256) {
		return fmt.Errorf("relevance %s explains %d inputs (%s), but there are at least %d inputs", npy, len(info.Inputs.SHA256), side, offset+len(hashes))
	}
	for i, h := range hashes {
		if info.Inputs.SHA256[offset+i] != h {
			return fmt.Errorf("relevance %s does not belong to input %d (%s): %s records %s there, computed from different values (inputs in another order, or other inputs)",
				npy, offset+i, in.names[i], side, info.Inputs.Names[offset+i])
		}
	}
	return nil
}

// relevanceInput is evaluate's --relevance: the array, its identity
// sidecar if there is one, and its SHA-256.
type relevanceInput struct {
	path    string
	r       *tensor.T
	info    *relevanceInfo
	sha256  string
	batched bool // inputs come in batches (--data): r is sliced per batch
}

// loadRelevance reads --relevance and its sidecar; nil for "". Without a
// sidecar it warns on stderr that the pairing is unchecked.
func loadRelevance(path string, batched bool) (*relevanceInput, error) {
	if path == "" {
		return nil, nil
	}
	r, err := tensor.LoadNpyData(path)
	if err != nil {
		return nil, err
	}
	sum, err := fileSHA256(path)
	if err != nil {
		return nil, err
	}
	info, err := readSidecar(path)
	if err != nil {
		return nil, err
	}
	if info == nil {
		fmt.Fprintf(os.Stderr, "lrp: warning: %s has no %s (written by lrp explain), so nothing checks that its relevance belongs to these inputs in this order\n", path, filepath.Base(sidecarPath(path)))
	} else if len(info.Shape) > 0 && !tensor.SameShape(info.Shape, r.Shape) {
		return nil, fmt.Errorf("relevance %s has shape %s, but %s records %s", path, tensor.ShapeString(r.Shape), sidecarPath(path), tensor.ShapeString(info.Shape))
	}
	if r.Dims() < 1 || r.Shape[0] == 0 {
		return nil, fmt.Errorf("relevance %s: shape %s has no batch", path, tensor.ShapeString(r.Shape))
	}
	return &relevanceInput{path: path, r: r, info: info, sha256: sum, batched: batched}, nil
}

// batch returns the relevance and targets for the inputs in, which are
// inputs offset… of the run. With a sidecar it refuses inputs other than
// those the relevance was computed for, and takes the targets explained
// (an explicit --target must agree); without, targets come from predict.
func (ri *relevanceInput) batch(in *inputSet, offset int, targets []int, predict func(*tensor.T, []int) ([]int, error)) (*tensor.T, []int, error) {
	n := in.x.Shape[0]
	r := ri.r
	if ri.batched {
		if offset+n > r.Shape[0] {
			return nil, nil, fmt.Errorf("relevance %s holds %d samples, but there are at least %d inputs", ri.path, r.Shape[0], offset+n)
		}
		per := r.Len() / r.Shape[0]
		r = tensor.FromData(r.Data[offset*per:(offset+n)*per], append([]int{n}, r.Shape[1:]...)...)
	}
	if ri.info == nil {
		t, err := predict(in.x, targets)
		return r, t, err
	}
	if !ri.batched && len(ri.info.Inputs.SHA256) != n {
		return nil, nil, fmt.Errorf("relevance %s explains %d inputs (%s), but %d inputs were given", ri.path, len(ri.info.Inputs.SHA256), sidecarPath(ri.path), n)
	}
	if err := checkPairing(ri.path, ri.info, in, offset); err != nil {
		return nil, nil, err
	}
	if len(ri.info.Targets) < offset+n {
		t, err := predict(in.x, targets)
		return r, t, err
	}
	t := ri.info.Targets[offset : offset+n]
	for i, k := range t {
		if len(targets) == 1 && targets[0] != k {
			return nil, nil, fmt.Errorf("--target %d, but relevance %s explains class %d for input %d (%s)", targets[0], ri.path, k, offset+i, sidecarPath(ri.path))
		}
	}
	return r, t, nil
}

// checkCount warns when a dataset run evaluated fewer or more inputs than
// the relevance explains (unreadable images skipped, or an interrupt).
func (ri *relevanceInput) checkCount(done int, interrupted bool) {
	if ri == nil || !ri.batched || interrupted || done == ri.r.Shape[0] {
		return
	}
	fmt.Fprintf(os.Stderr, "lrp: warning: relevance %s holds %d samples; %d inputs were evaluated\n", ri.path, ri.r.Shape[0], done)
}

// inputSource names where a run's inputs came from.
func inputSource(input, dataPath string) string {
	switch {
	case input != "":
		return "--input " + input
	case dataPath != "":
		return "--data " + dataPath
	}
	return "images"
}
