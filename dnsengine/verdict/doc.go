// Package verdict is the vocabulary of the engine's answers to the queue:
// what to do with a packet (Verdict), why (Reason, grouped into a
// ReasonClass for metrics), and the Result carrying both with the
// rewritten bytes. The engine (package dnsengine) and its TCP stack
// (package tcpstack) both speak it, and their callers import it as is; it
// imports nothing.
package verdict
