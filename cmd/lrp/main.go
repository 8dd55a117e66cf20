// Command lrp explains image classifiers with Layer-wise Relevance
// Propagation and measures how faithful the explanations are.
//
// Usage:
//
//	lrp layers  --model M
//	lrp predict --model M (--input x.npy | IMAGE...) [--top 5] [--out logits.npy]
//	lrp explain --model M (--input x.npy | IMAGE...) [--composite NAME] --out r.npy|DIR
//
// Run "lrp help" for the list of commands, "lrp help COMMAND" or
// "lrp COMMAND -h" for a command's flags (printed to standard output,
// exit status 0), and "lrp --version" for the module version and commit.
// Errors are printed in one line to standard error; the exit status is 2.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"runtime/debug"
	"sort"
	"strings"
)

type command struct {
	summary string
	run     func(args []string, stdout io.Writer) error
}

// commands is filled in init: the commands' flag sets print their
// summary from it, so a static initializer would be a cycle.
var commands map[string]command

func init() {
	commands = map[string]command{
		"demo":     {"explain and evaluate the embedded models' sample images; writes heatmaps, plots and an HTML report", runDemo},
		"layers":   {"list the layers of a model: index, name, type, output shape", runLayers},
		"predict":  {"classify inputs and print the top classes", runPredict},
		"explain":  {"compute relevance (LRP or a baseline) and write it as .npy and heatmaps", runExplain},
		"sweep":    {"evaluate LRP over a grid of rule parameters on a dataset (sharded, resumable); 'sweep merge' combines shards", runSweep},
		"inpaint":  {"fill masked pixels with Telea inpainting (as OpenCV's INPAINT_TELEA)", runInpaint},
		"evaluate": {"pixel flipping: perturb the most/least relevant patches, report curves, AUC, AOPC, ABPC", runEvaluate},
	}
}

// gcPercent is the garbage collector's target heap growth unless GOGC is
// set: tensors hold no pointers, so a collection costs little, and
// collecting at 20% growth instead of Go's 100% keeps the peak near the
// live heap (explaining VGG16 at batch 8: 1.8 GB instead of 2.8 GB, at the
// same speed).
const gcPercent = 20

func main() {
	if os.Getenv("GOGC") == "" {
		debug.SetGCPercent(gcPercent)
	}
	if err := run(os.Args[1:], os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, errorLine(err))
		os.Exit(exitCode(err))
	}
}

// helpOut is where a command's -h/--help prints its usage: run's stdout.
// run sets it before dispatching; commands run one at a time.
var helpOut io.Writer = os.Stdout

func run(args []string, stdout io.Writer) error {
	if len(args) == 0 {
		usage(stdout)
		return nil
	}
	switch args[0] {
	case "help", "-h", "-help", "--help":
		if len(args) == 1 {
			usage(stdout)
			return nil
		}
		if _, ok := commands[args[1]]; !ok {
			return fmt.Errorf("unknown command %q (commands: %s)", args[1], strings.Join(commandNames(), ", "))
		}
		// "help sweep merge" is "sweep merge -h".
		return run(append(append([]string{}, args[1:]...), "-h"), stdout)
	case "version", "-version", "--version":
		if len(args) > 1 {
			return fmt.Errorf("%s takes no arguments", args[0])
		}
		fmt.Fprintln(stdout, "lrp", toolVersion())
		return nil
	}
	c, ok := commands[args[0]]
	if !ok {
		return fmt.Errorf("unknown command %q (commands: %s; run 'lrp help')", args[0], strings.Join(commandNames(), ", "))
	}
	helpOut = stdout
	defer func() { helpOut = os.Stdout }()
	err := c.run(args[1:], stdout)
	if errors.Is(err, flag.ErrHelp) {
		// The command printed its usage on request: not a failure.
		return nil
	}
	return err
}

// commandNames lists the commands, sorted.
func commandNames() []string {
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "lrp: Layer-wise Relevance Propagation for image classifiers")
	fmt.Fprintln(w, "\nUsage: lrp COMMAND [flags] [args]\n\nCommands:")
	for _, n := range commandNames() {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].summary)
	}
	fmt.Fprintln(w, "\nRun 'lrp help COMMAND' or 'lrp COMMAND -h' for a command's flags, 'lrp --version' for the version.")
}

// newFlags returns a flag set that reports errors instead of exiting and
// prints nothing itself: parse returns its errors (the caller prints them
// once), and on -h/--help prints the usage to helpOut.
func newFlags(name, usageLine string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {
		w := fs.Output()
		fmt.Fprintf(w, "Usage: lrp %s %s\n", name, usageLine)
		if s := commands[name].summary; s != "" {
			fmt.Fprintf(w, "\n%s\n", s)
		}
		fmt.Fprintln(w, "\nFlags:")
		fs.PrintDefaults()
	}
	return fs
}

// parse parses flags that may appear before or after positional arguments,
// and checks the values of the flags given (checkFlags). On -h or --help it
// prints the command's usage and flags to helpOut and returns
// flag.ErrHelp, which run turns into success.
func parse(fs *flag.FlagSet, args []string) ([]string, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if err := checkFlags(fs); err != nil {
		return nil, err
	}
	return pos, nil
}

func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				fs.SetOutput(helpOut)
				fs.Usage()
				fs.SetOutput(io.Discard)
				return nil, err
			}
			return nil, fmt.Errorf("%w (run 'lrp %s -h' for the flags)", err, fs.Name())
		}
		args = fs.Args()
		i := 0
		for i < len(args) && !strings.HasPrefix(args[i], "-") {
			i++
		}
		pos = append(pos, args[:i]...)
		if i == len(args) {
			return pos, nil
		}
		if args[i] == "--" {
			return append(pos, args[i+1:]...), nil
		}
		args = args[i:]
	}
}
