// Package verdict is the vocabulary of the engine's answers to the queue:
// what to do with a packet (Verdict), why (Reason, grouped into a
// ReasonClass for metrics), and the Result carrying both with the
// rewritten bytes. The engine (package dnsengine, which aliases every name
// here) and its TCP stack (package tcpstack) both speak it; it imports
// nothing.
package verdict
