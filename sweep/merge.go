package sweep

import (
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"sort"
	"strconv"

	"github.com/xai-go/lrp/eval"
)

// Row is one grid point's result over all images.
type Row struct {
	Point  Point
	Images int
	// Per order (see eval.Summarize): the AUC of the mean curve (the mean
	// of the images' AUCs), the standard deviation of the images' AUCs, the
	// AOPC and the mean curve.
	AUC, AUCStd, AOPC map[string]float64
	Mean              map[string][]float64
	// ABPC = AUC(LRF) − AUC(MoRF), if both orders ran (see eval.ABPC).
	ABPC *float64
	// Metrics holds the further metrics (Settings.Metrics) by name.
	Metrics map[string]MetricStats
}

// Table is the merged result of a sweep.
type Table struct {
	Settings Settings
	Rows     []Row
}

// Merge combines the results directories of a sweep's shards (or of one
// unsharded run). It fails if the directories hold different settings, or
// if any unit is missing or present twice.
func Merge(dirs ...string) (*Table, error) {
	settings, byUnit, err := load(dirs)
	if err != nil {
		return nil, err
	}
	return table(settings, byUnit, nil)
}

// ClassTable is the merged result of a sweep over the images of one class.
type ClassTable struct {
	Class string
	*Table
}

// MergeByClass merges as Merge does and also splits the result by the
// images' classes, which the sweep recorded (Config.Classes). Classes come
// in sorted order, unlabelled images ("") under "unlabelled" last.
func MergeByClass(dirs ...string) (all *Table, byClass []ClassTable, err error) {
	settings, byUnit, err := load(dirs)
	if err != nil {
		return nil, nil, err
	}
	if all, err = table(settings, byUnit, nil); err != nil {
		return nil, nil, err
	}
	if len(settings.Classes) == 0 {
		return nil, nil, fmt.Errorf("sweep: %s records no classes of its images (a sweep over labelled images records them)", dirs[0])
	}
	var names []string
	seen := map[string]bool{}
	for _, c := range settings.Classes {
		if !seen[c] {
			seen[c] = true
			names = append(names, c)
		}
	}
	sort.Slice(names, func(i, j int) bool {
		if (names[i] == "") != (names[j] == "") {
			return names[j] == ""
		}
		return names[i] < names[j]
	})
	for _, c := range names {
		t, err := table(settings, byUnit, func(i int) bool { return i < len(settings.Classes) && settings.Classes[i] == c })
		if err != nil {
			return nil, nil, err
		}
		if c == "" {
			c = "unlabelled"
		}
		byClass = append(byClass, ClassTable{Class: c, Table: t})
	}
	return all, byClass, nil
}

// load reads the settings and the finished units of results directories.
func load(dirs []string) (*Settings, map[int]Record, error) {
	if len(dirs) == 0 {
		return nil, nil, fmt.Errorf("sweep: no results directories")
	}
	var settings *Settings
	byUnit := map[int]Record{}
	for _, d := range dirs {
		b, err := os.ReadFile(filepath.Join(d, "settings.json"))
		if err != nil {
			return nil, nil, fmt.Errorf("sweep: %s is not a results directory: %w", d, err)
		}
		var s Settings
		if err := json.Unmarshal(b, &s); err != nil {
			return nil, nil, fmt.Errorf("sweep: %s/settings.json: %w", d, err)
		}
		shardless := s
		shardless.Shards = 0
		if settings == nil {
			settings = &shardless
		} else if !sameSettings(*settings, shardless) {
			return nil, nil, fmt.Errorf("sweep: %s holds results of different settings than %s", d, dirs[0])
		}
		files, _ := filepath.Glob(filepath.Join(d, "results-*-of-*.jsonl"))
		for _, f := range files {
			recs, err := readRecords(f)
			if err != nil {
				return nil, nil, err
			}
			for _, r := range recs {
				if _, dup := byUnit[r.Unit]; dup {
					return nil, nil, fmt.Errorf("sweep: unit %d (grid point %d, batch %d) appears twice (again in %s)", r.Unit, r.Point, r.Batch, f)
				}
				byUnit[r.Unit] = r
			}
		}
	}
	points := Points(settings.Axes)
	batches := (len(settings.Images) + settings.BatchSize - 1) / settings.BatchSize
	var missing []int
	for u := 0; u < len(points)*batches; u++ {
		if _, ok := byUnit[u]; !ok {
			missing = append(missing, u)
		}
	}
	if len(missing) > 0 {
		return nil, nil, fmt.Errorf("sweep: %d of %d units are missing (first: unit %d = grid point %d, batch %d); run the missing shards or resume them",
			len(missing), len(points)*batches, missing[0], missing[0]/batches, missing[0]%batches)
	}
	if len(byUnit) != len(points)*batches {
		return nil, nil, fmt.Errorf("sweep: %d units found, %d expected", len(byUnit), len(points)*batches)
	}
	return settings, byUnit, nil
}

// table computes the rows over the images keep accepts (all if nil), by
// index in Settings.Images.
func table(settings *Settings, byUnit map[int]Record, keep func(image int) bool) (*Table, error) {
	points := Points(settings.Axes)
	batches := (len(settings.Images) + settings.BatchSize - 1) / settings.BatchSize
	t := &Table{Settings: *settings}
	for p, pt := range points {
		row := Row{Point: pt, AUC: map[string]float64{}, AUCStd: map[string]float64{}, AOPC: map[string]float64{}, Mean: map[string][]float64{}}
		summaries := map[eval.Order]eval.Summary{}
		for _, o := range settings.Orders {
			var scores [][]float64
			for b := 0; b < batches; b++ {
				or := byUnit[p*batches+b].Orders[string(o)]
				if or == nil {
					return nil, fmt.Errorf("sweep: unit %d lacks order %s", p*batches+b, o)
				}
				for i, s := range or.Scores {
					if keep != nil && !keep(b*settings.BatchSize+i) {
						continue
					}
					scores = append(scores, s)
				}
			}
			s, err := eval.Summarize(scores)
			if err != nil {
				return nil, fmt.Errorf("sweep: grid point %d, order %s: %w", p, o, err)
			}
			summaries[o] = s
			row.AUC[string(o)], row.AUCStd[string(o)] = s.AUC, s.AUCStd
			row.Mean[string(o)] = s.Mean
			row.AOPC[string(o)] = s.AOPC
			row.Images = s.Images
		}
		for _, name := range settings.Metrics {
			var vals []float64
			var seeds [][]float64 // seeds[s][b]: batch means of seed s+1
			for b := 0; b < batches; b++ {
				rec := byUnit[p*batches+b]
				v := rec.Metrics[name]
				if len(v) != len(rec.Targets) {
					return nil, fmt.Errorf("sweep: unit %d has %d values of %s for %d images", p*batches+b, len(v), name, len(rec.Targets))
				}
				for i, x := range v {
					if keep == nil || keep(b*settings.BatchSize+i) {
						vals = append(vals, x)
					}
				}
				for s, m := range rec.SeedMeans[name] {
					if s >= len(seeds) {
						seeds = append(seeds, nil)
					}
					seeds[s] = append(seeds[s], m*float64(len(v)))
				}
			}
			st := MetricStats{Mean: mean(vals), Std: sampleStd(vals), values: vals}
			st.SE = st.Std / math.Sqrt(float64(max(len(vals), 1)))
			if len(seeds) > 0 && keep == nil {
				// The mean over all images for every seed: seed 0's and
				// the further ones' (batch means weighted by batch size).
				means := []float64{st.Mean}
				for _, s := range seeds {
					var sum float64
					for _, x := range s {
						sum += x
					}
					means = append(means, sum/float64(len(vals)))
				}
				st.SeedStd = sampleStd(means)
			}
			if row.Metrics == nil {
				row.Metrics = map[string]MetricStats{}
			}
			row.Metrics[name] = st
		}
		if l, ok := summaries[eval.LRF]; ok {
			if m, ok := summaries[eval.MoRF]; ok {
				abpc := eval.ABPC(m, l)
				row.ABPC = &abpc
			}
		}
		t.Rows = append(t.Rows, row)
	}
	t.pairedToBest()
	return t, nil
}

// Best returns the row with the lowest MoRF AUC, the highest LRF AUC and
// the highest ABPC (-1 where the order did not run).
func (t *Table) Best() (morf, lrf, abpc int) {
	morf, lrf, abpc = -1, -1, -1
	for i, r := range t.Rows {
		if v, ok := r.AUC["morf"]; ok && (morf < 0 || v < t.Rows[morf].AUC["morf"]) {
			morf = i
		}
		if v, ok := r.AUC["lrf"]; ok && (lrf < 0 || v > t.Rows[lrf].AUC["lrf"]) {
			lrf = i
		}
		if r.ABPC != nil && (abpc < 0 || *r.ABPC > *t.Rows[abpc].ABPC) {
			abpc = i
		}
	}
	return morf, lrf, abpc
}

// WriteCSV writes one line per grid point: its parameters, the number of
// images, and per order the mean AUC, its standard deviation and the AOPC,
// then the ABPC.
func (t *Table) WriteCSV(w io.Writer) error {
	cw := csv.NewWriter(w)
	if err := cw.Write(t.header()); err != nil {
		return err
	}
	if err := t.writeRows(cw, nil); err != nil {
		return err
	}
	cw.Flush()
	return cw.Error()
}

// WriteClassCSV writes the per-class tables of MergeByClass as one CSV:
// a first column "class", then WriteCSV's columns, the rows of one class
// after the other (e.g. for pandas' groupby("class")).
func WriteClassCSV(w io.Writer, tables []ClassTable) error {
	if len(tables) == 0 {
		return fmt.Errorf("sweep: no classes")
	}
	cw := csv.NewWriter(w)
	if err := cw.Write(append([]string{"class"}, tables[0].header()...)); err != nil {
		return err
	}
	for _, t := range tables {
		if err := t.writeRows(cw, []string{t.Class}); err != nil {
			return err
		}
	}
	cw.Flush()
	return cw.Error()
}

func (t *Table) header() []string {
	header := []string{"point"}
	for _, a := range t.Settings.Axes {
		header = append(header, a.Name)
	}
	header = append(header, "images")
	for _, o := range t.Settings.Orders {
		header = append(header, "auc_"+string(o), "auc_std_"+string(o), "aopc_"+string(o))
	}
	header = append(header, "abpc")
	for _, m := range t.Settings.Metrics {
		header = append(header, m, m+"_std", m+"_se", m+"_best_diff_se")
		if t.Settings.Seeds > 1 {
			header = append(header, m+"_seed_std")
		}
	}
	return header
}

// writeRows writes one line per grid point, after the given first fields.
func (t *Table) writeRows(cw *csv.Writer, first []string) error {
	f := func(v float64) string { return strconv.FormatFloat(v, 'g', 10, 64) }
	for _, r := range t.Rows {
		line := append(append([]string{}, first...), strconv.Itoa(r.Point.Index))
		for _, a := range t.Settings.Axes {
			line = append(line, f(r.Point.Values[a.Name]))
		}
		line = append(line, strconv.Itoa(r.Images))
		for _, o := range t.Settings.Orders {
			line = append(line, f(r.AUC[string(o)]), f(r.AUCStd[string(o)]), f(r.AOPC[string(o)]))
		}
		if r.ABPC != nil {
			line = append(line, f(*r.ABPC))
		} else {
			line = append(line, "")
		}
		for _, m := range t.Settings.Metrics {
			s := r.Metrics[m]
			line = append(line, f(s.Mean), f(s.Std), f(s.SE), f(s.BestDiffSE))
			if t.Settings.Seeds > 1 {
				line = append(line, f(s.SeedStd))
			}
		}
		if err := cw.Write(line); err != nil {
			return err
		}
	}
	return nil
}
