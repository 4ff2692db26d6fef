package model

import "fmt"

// Counts says what became of the objects of one kind.
type Counts struct {
	// Loaded objects contributed to the table (or were valid and simply
	// had nothing to add, like a headless service with no ready endpoint).
	Loaded int
	// Skipped objects could not be used; each has a Problem.
	Skipped int
	// Filtered objects lie outside Options.Namespaces.
	Filtered int
}

// Problem is one thing Build could not use. Problems never stop a build.
type Problem struct {
	Kind      string // Service, EndpointSlice or ServiceEntry
	Namespace string
	Name      string
	Message   string
}

func (p Problem) String() string {
	return fmt.Sprintf("%s %s/%s: %s", p.Kind, p.Namespace, p.Name, p.Message)
}

// Report is what Build did with the objects.
type Report struct {
	Services       Counts
	EndpointSlices Counts
	ServiceEntries Counts
	// AutoVIPs counts hosts given an automatic VIP, from status.addresses
	// or derived.
	AutoVIPs int
	// Problems lists every object (or part of one) that was skipped, in a
	// deterministic order.
	Problems []Problem
}
