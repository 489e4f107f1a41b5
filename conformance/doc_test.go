// Package conformance tests the committed generated tree (generated/) as a
// user sees it: the typed events package receiving every documented event
// example in its wire form, the typed receiver's answers, and a program
// that receives an event and calls a method against the fake portal.
//
// It holds tests only. After a change to the generator, regenerate with
// `go run ./cmd/b24gen` before running it.
package conformance
