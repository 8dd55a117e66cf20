// Package sweep evaluates LRP over grids of rule parameters (γ, ε, …) on
// a dataset, as the thesis "In-Depth Hyperparameter Selection For
// Layer-Wise Relevance Propagation" (TU Berlin, 2022) chooses them: every
// grid point is a rule map, explained and evaluated by pixel flipping on
// every image, and the points are ranked by their AUC.
//
// # Work units and shards
//
// The work is split into units, one per (grid point, image batch), numbered
// point-major. Shard i of n takes the units u with u mod n = i, so a job
// array splits the work deterministically. Each finished unit is appended
// as one JSON line to the shard's results file and flushed, so a killed
// run resumes where it stopped and never recomputes a finished unit.
package sweep

import (
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Axis is one parameter of the grid and its values.
type Axis struct {
	Name   string
	Values []float64
}

// GridError is a syntax error in a grid expression at byte offset Pos.
type GridError struct {
	Expr string
	Pos  int
	Msg  string
}

func (e *GridError) Error() string {
	return fmt.Sprintf("grid %q: at position %d: %s", e.Expr, e.Pos, e.Msg)
}

// ParseAxis parses "name=v1,v2,logspace(a,b,n),linspace(a,b,n)": numbers,
// n values 10^a … 10^b spaced evenly in the exponent, or n values a … b.
// As in NumPy, n defaults to 50 (logspace(a,b) = logspace(a,b,50)).
func ParseAxis(expr string) (Axis, error) {
	name, rest, ok := strings.Cut(expr, "=")
	name = strings.TrimSpace(name)
	if !ok || name == "" {
		return Axis{}, &GridError{expr, 0, "needs the form NAME=VALUES"}
	}
	for _, c := range name {
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return Axis{}, &GridError{expr, 0, fmt.Sprintf("bad parameter name %q", name)}
		}
	}
	ax := Axis{Name: name}
	pos := len(expr) - len(rest)
	for len(rest) > 0 {
		lead := len(rest) - len(strings.TrimLeft(rest, " "))
		rest, pos = rest[lead:], pos+lead
		var item string
		if strings.HasPrefix(rest, "logspace(") || strings.HasPrefix(rest, "linspace(") {
			end := strings.IndexByte(rest, ')')
			if end < 0 {
				return Axis{}, &GridError{expr, pos, "missing ')'"}
			}
			item = rest[:end+1]
			vals, err := space(item)
			if err != nil {
				return Axis{}, &GridError{expr, pos, err.Error()}
			}
			ax.Values = append(ax.Values, vals...)
		} else {
			item, _, _ = strings.Cut(rest, ",")
			v, err := strconv.ParseFloat(strings.TrimSpace(item), 64)
			if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
				return Axis{}, &GridError{expr, pos, fmt.Sprintf("bad value %q", strings.TrimSpace(item))}
			}
			ax.Values = append(ax.Values, v)
		}
		rest, pos = rest[len(item):], pos+len(item)
		rest = strings.TrimLeft(rest, " ")
		if rest == "" {
			break
		}
		if rest[0] != ',' {
			return Axis{}, &GridError{expr, pos, "expected ','"}
		}
		rest, pos = rest[1:], pos+1
		if strings.TrimSpace(rest) == "" {
			return Axis{}, &GridError{expr, pos, "trailing ','"}
		}
	}
	if len(ax.Values) == 0 {
		return Axis{}, &GridError{expr, pos, "no values"}
	}
	return ax, nil
}

// space expands logspace(a,b,n) or linspace(a,b,n).
func space(s string) ([]float64, error) {
	kind := s[:8]
	args := strings.Split(s[9:len(s)-1], ",")
	if len(args) == 2 {
		args = append(args, "50") // NumPy's default count
	}
	if len(args) != 3 {
		return nil, fmt.Errorf("%s takes 2 or 3 arguments (start, stop[, count = 50])", kind)
	}
	var f [3]float64
	for i, a := range args {
		v, err := strconv.ParseFloat(strings.TrimSpace(a), 64)
		if err != nil || math.IsNaN(v) || math.IsInf(v, 0) {
			return nil, fmt.Errorf("%s: bad number %q", kind, strings.TrimSpace(a))
		}
		f[i] = v
	}
	n := int(f[2])
	if float64(n) != f[2] || n < 1 || n > 10000 {
		return nil, fmt.Errorf("%s: count must be an integer from 1 to 10000, got %g", kind, f[2])
	}
	out := make([]float64, n)
	for i := range out {
		t := f[0]
		if n > 1 {
			t = f[0] + (f[1]-f[0])*float64(i)/float64(n-1)
		}
		if kind == "logspace" {
			t = math.Pow(10, t)
		}
		out[i] = t
	}
	return out, nil
}

// Point is one grid point: a value for every axis.
type Point struct {
	Index  int
	Values map[string]float64
}

// Label formats the point as "gamma=0.25 epsilon=0.001" in axis order.
func (p Point) Label(axes []Axis) string {
	parts := make([]string, len(axes))
	for i, a := range axes {
		parts[i] = a.Name + "=" + strconv.FormatFloat(p.Values[a.Name], 'g', -1, 64)
	}
	return strings.Join(parts, " ")
}

// Points returns the cartesian product of the axes, the last axis
// varying fastest.
func Points(axes []Axis) []Point {
	n := 1
	for _, a := range axes {
		n *= len(a.Values)
	}
	pts := make([]Point, n)
	for i := range pts {
		pts[i] = Point{Index: i, Values: map[string]float64{}}
		rem := i
		for k := len(axes) - 1; k >= 0; k-- {
			a := axes[k]
			pts[i].Values[a.Name] = a.Values[rem%len(a.Values)]
			rem /= len(a.Values)
		}
	}
	return pts
}
