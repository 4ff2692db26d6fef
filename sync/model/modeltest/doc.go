// Package modeltest generates object sets for tests and benchmarks of the
// name table: Cluster makes the shape of a large cluster (Services over
// namespaces, every n-th headless, named ports, one EndpointSlice of
// ready endpoints each, ServiceEntries), Random makes small sets full of
// the corner cases name building must get right, and WriteJSON writes a set
// as an objects file for `meshdns run --objects`.
package modeltest
