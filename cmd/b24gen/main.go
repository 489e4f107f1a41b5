// Command b24gen turns the Bitrix24 REST API reference into typed Go.
//
//	b24gen extract -docs DIR [-o FILE]            docs → spec JSON
//	b24gen generate [-spec FILE | -docs DIR] [-out DIR] [-pkg IMPORTPATH] [-scopes a,b]
//	b24gen report [-spec FILE | -docs DIR] [-json]  coverage counts
//	b24gen diff OLD NEW                          API changes between two specs or docs dirs
//
// With no subcommand it runs generate: the embedded spec into ./generated.
package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
)

// usageError marks a mistake in the command line; main prints the usage.
type usageError struct{ msg string }

func (e usageError) Error() string { return e.msg }

func main() {
	os.Exit(run(os.Args[1:], os.Stdout, os.Stderr))
}

// run is main without the process: it returns the exit code so tests can
// drive the CLI in-process.
func run(args []string, stdout, stderr io.Writer) int {
	cmd := "generate"
	if len(args) > 0 && !strings.HasPrefix(args[0], "-") {
		cmd, args = args[0], args[1:]
	}
	var err error
	switch cmd {
	case "extract":
		err = runExtract(args, stdout, stderr)
	case "generate":
		err = runGenerate(args, stdout, stderr)
	case "report":
		err = runReport(args, stdout, stderr)
	case "diff":
		err = runDiff(args, stdout, stderr)
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	if err == nil {
		return 0
	}
	if errors.Is(err, flag.ErrHelp) {
		return 0
	}
	fmt.Fprintf(stderr, "b24gen %s: %v\n", cmd, err)
	var ue usageError
	if errors.As(err, &ue) {
		fmt.Fprint(stderr, usage)
		return 2
	}
	return 1
}

const usage = `usage:
  b24gen extract -docs DIR [-o FILE]
  b24gen generate [-spec FILE | -docs DIR] [-out DIR] [-pkg IMPORTPATH] [-scopes a,b]
  b24gen report [-spec FILE | -docs DIR] [-json]
  b24gen diff OLD NEW        (each a spec JSON file or a docs directory)
  b24gen                     same as: b24gen generate
`

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(stderr)
	return fs
}

// parseFlags parses and refuses stray positional arguments.
func parseFlags(fs *flag.FlagSet, args []string) error {
	if err := parseFlagsOnly(fs, args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return usageError{fmt.Sprintf("unexpected argument %q", fs.Arg(0))}
	}
	return nil
}

// parseFlagsOnly parses, leaving the positional arguments to the caller;
// a flag mistake is a usage error, -h is passed through.
func parseFlagsOnly(fs *flag.FlagSet, args []string) error {
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return usageError{err.Error()}
	}
	return nil
}
