// Package replaytest builds capture files from readable query lists
// (Generate), so that replay's fixtures are produced by the project itself
// and committed with the lists they came from. It is for tests and
// fixtures only: it leans on gopacket to serialise the packets (an
// independent encoder of the headers meshdns's engine parses), which the
// meshdns binary does not link.
package replaytest
