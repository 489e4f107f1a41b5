// Command b24gen turns the Bitrix24 REST API reference into typed Go.
//
//	b24gen generate [-spec FILE | -docs DIR] [-out DIR] [-pkg IMPORTPATH] [-scopes a,b] [-v]
//	b24gen report [-spec FILE | -docs DIR] [-json]  coverage and the problems met, by kind
//	b24gen extract -docs DIR [-o FILE] [-v]       docs → spec JSON
//	b24gen diff OLD NEW                          API changes between two specs or docs dirs
//	b24gen fake [-addr HOST:PORT]                a fake portal on loopback until interrupted
//	b24gen help                                  this list; b24gen CMD -h for a command's flags
//
// With no subcommand it runs generate: the embedded spec into ./generated.
// generate prints one line; the problems it met in the docs (each worked
// around, none an error) are counted by `b24gen report` and listed by -v.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"
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
	case "fake":
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err = runFake(ctx, args, stdout, stderr)
		stop()
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	default:
		err = usageError{fmt.Sprintf("unknown command %q", cmd)}
	}
	if err == nil {
		return 0
	}
	var he helpError
	if errors.As(err, &he) {
		fmt.Fprint(stdout, usage)
		fmt.Fprintf(stdout, "\nflags of b24gen %s:\n", cmd)
		he.fs.SetOutput(stdout)
		he.fs.PrintDefaults()
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

const usage = `b24gen turns the Bitrix24 REST API reference into typed Go.

usage:
  b24gen generate [-spec FILE | -docs DIR] [-out DIR] [-pkg IMPORTPATH] [-scopes a,b] [-doctests] [-v]
                      write the Go packages (default: the embedded spec into ./generated)
  b24gen report [-spec FILE | -docs DIR] [-json]
                      coverage of the docs, and the problems met in them by kind
  b24gen extract -docs DIR [-o FILE] [-v]
                      read a docs checkout into spec JSON
  b24gen diff OLD NEW API changes; each a spec JSON file or a docs directory
  b24gen fake [-addr HOST:PORT] [-documented] [-events URL] [-install URL] [-limits]
                      serve a fake portal on loopback until interrupted (default 127.0.0.1:8024);
                      the first line is its webhook URL, then the application's keys
  b24gen help         this text; b24gen COMMAND -h adds the command's flags
  b24gen              same as: b24gen generate
`

// helpError is -h or -help on a command: run prints the usage and that
// command's flags on stdout and exits 0.
type helpError struct{ fs *flag.FlagSet }

func (helpError) Error() string { return "help requested" }

// newFlagSet returns a flag set that reports errors instead of exiting; its
// own usage text is silenced, run prints the whole command list instead.
func newFlagSet(name string, _ io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard) // run prints the parse error once, with the usage
	fs.Usage = func() {}
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
			return helpError{fs}
		}
		return usageError{err.Error()}
	}
	return nil
}
