package outfile_test

import (
	"fmt"
	"os"
	"path/filepath"

	"github.com/xai-go/lrp/internal/outfile"
)

// Check every output before the work, then write each in one piece.
func Example() {
	dir, _ := os.MkdirTemp("", "outfile-example")
	defer os.RemoveAll(dir)
	out := filepath.Join(dir, "run", "results.json")
	if err := outfile.Check(out); err != nil { // nothing is created yet
		fmt.Println(err)
		return
	}
	// ... the work ...
	if err := outfile.Write(out, []byte("{}\n")); err != nil { // creates run/
		fmt.Println(err)
		return
	}
	b, _ := os.ReadFile(out)
	fmt.Printf("%s", b)

	// Anything but a regular file is refused.
	err := outfile.Write(filepath.Join(dir, "run"), []byte("x"))
	fmt.Println(err != nil)
	// Output:
	// {}
	// true
}
