// Command meshdns answers DNS queries for mesh names inside a pod's network
// namespace by rewriting NFQUEUE'd query packets into their responses.
//
//	meshdns run --objects FILE        consume the queue (installs and removes its rules)
//	meshdns rules install|remove      manage the rules only (an init container)
//	meshdns replay IN.pcap OUT.pcap   run captured packets through the engine
//
// This is the only package that wires the others together; flags live here
// and nowhere else.
package main
