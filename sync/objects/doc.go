// Package objects reads the objects file: Kubernetes Services,
// EndpointSlices and Istio ServiceEntries as
//
//	kubectl get svc,endpointslices,serviceentries -A -o yaml
//
// prints them (a "kind: List" with items), the same with -o json, or a
// stream of YAML documents separated by "---" or of concatenated JSON
// objects, each of which may itself be a List. Parse and Load turn it into
// a *model.Objects; objects of other kinds are counted and skipped. A
// malformed file or object fails the whole parse with a *ParseError that
// names the file, the document (and its first line), the item inside a
// List and the object when known: nothing is ever half-loaded.
//
// Source watches the file with inotify (its directory, for replacements
// and ConfigMap symlink swaps, and the file through its symlinks, for
// writes in place; it polls every Config.Interval only where inotify is
// unavailable), so an idle meshdns runs no timer for it. On an event it
// looks at the file's size, modification time and identity, rereads and
// hashes the content when they change (or while a change could hide
// inside the file system's timestamp granularity), and hands a freshly
// parsed *model.Objects to its update function when the content differs. A replacement that does not parse is
// logged and counted once, and the previous objects stay in use.
package objects
