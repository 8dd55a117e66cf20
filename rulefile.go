package lrp

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
)

// maxRuleFile bounds the size of a rule-map file (1 MiB): real ones are a
// few lines.
const maxRuleFile = 1 << 20

// ReadRuleMapFile reads a rule-map file: JSON if path ends in ".json",
// text otherwise. Bounds of the box rule given as file names are read
// with load (which may be nil if none are). Errors name the file and the
// line or entry. Like ParseRuleMap's, the map is strict.
//
// A rule-map file is either JSON, a list of entries
//
//	[{"select": "0", "rule": "zbox(low=-2.1179,high=2.64)"}, {"select": "conv", "rule": "gamma(0.25)"}]
//
// or text with one SELECTOR:RULE entry per line (the syntax of ParseSpec),
// where '#' starts a comment and blank lines are skipped:
//
//	0:zbox(low=-2.1179,high=2.64)   # the input layer
//	conv:gamma(0.25)
func ReadRuleMapFile(path string, load BoundLoader) (*RuleMap, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	m, err := ReadRuleMap(f, strings.HasSuffix(strings.ToLower(path), ".json"), load)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", path, err)
	}
	return m, nil
}

// ReadRuleMap reads a rule map in the JSON form (isJSON) or the text form
// of a rule-map file (see ReadRuleMapFile) from r, at most 1 MiB.
func ReadRuleMap(r io.Reader, isJSON bool, load BoundLoader) (*RuleMap, error) {
	b, err := io.ReadAll(io.LimitReader(r, maxRuleFile+1))
	if err != nil {
		return nil, err
	}
	if len(b) > maxRuleFile {
		return nil, fmt.Errorf("rule map larger than %d bytes", maxRuleFile)
	}
	var entries []SpecEntry
	var where []string // the line or list entry of each entry
	if isJSON {
		entries, where, err = parseRuleJSON(b)
	} else {
		entries, where, err = parseRuleText(b)
	}
	if err != nil {
		return nil, err
	}
	m := &RuleMap{Strict: true}
	for i, e := range entries {
		r, err := NewRule(e.Rule, load)
		if err != nil {
			return nil, fmt.Errorf("%s: %s:%s: %w", where[i], e.Selector, e.Rule, err)
		}
		m.Entries = append(m.Entries, Entry{e.Selector, r})
	}
	return m, nil
}

func parseRuleJSON(b []byte) (entries []SpecEntry, where []string, err error) {
	var list []struct {
		Select, Rule string
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&list); err != nil {
		return nil, nil, fmt.Errorf("want a JSON list of {\"select\": …, \"rule\": …}: %w", err)
	}
	if dec.More() {
		return nil, nil, fmt.Errorf("data after the JSON list")
	}
	for i, e := range list {
		if strings.ContainsAny(e.Select+e.Rule, ";") {
			return nil, nil, fmt.Errorf("entry %d: ';' separates entries of a spec; give one entry per list item", i+1)
		}
		parsed, err := ParseSpec(e.Select + ":" + e.Rule)
		if err != nil {
			return nil, nil, fmt.Errorf("entry %d: %w", i+1, err)
		}
		entries = append(entries, parsed...)
		for range parsed {
			where = append(where, fmt.Sprintf("entry %d", i+1))
		}
	}
	if len(entries) == 0 {
		return nil, nil, fmt.Errorf("no entries")
	}
	return entries, where, nil
}

func parseRuleText(b []byte) (entries []SpecEntry, where []string, err error) {
	for i, line := range strings.Split(string(b), "\n") {
		line, _, _ = strings.Cut(line, "#")
		if line = strings.TrimSpace(line); line == "" {
			continue
		}
		parsed, err := ParseSpec(line)
		if err != nil {
			return nil, nil, fmt.Errorf("line %d: %w", i+1, err)
		}
		entries = append(entries, parsed...)
		for range parsed {
			where = append(where, fmt.Sprintf("line %d", i+1))
		}
	}
	if len(entries) == 0 {
		return nil, nil, fmt.Errorf("no entries")
	}
	return entries, where, nil
}
