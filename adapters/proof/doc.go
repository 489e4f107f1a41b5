// Package proof holds the fleet proofs of issue 22, run against the real
// servers with OS processes: the events proof (the receiver with a spool,
// workers killed with kill -9 while handling) and the token renewal proof
// (processes sharing one token store through several expiries). They are
// gated, being long and loud on a shared machine:
//
//	B24_PROOF=1 go test ./proof -run TestEventsProof -v -timeout 30m
//	B24_PROOF=1 go test ./proof -run TestTokenRenewalProof -v -timeout 30m
//
// Each test re-executes its own test binary as the worker processes
// (TestMain: B24_PROOF_WORKER names the role). The package has no code
// beyond its tests.
package proof
