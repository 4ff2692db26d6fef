// Command imagetool writes a container image tarball from local files,
// without a registry or a container engine, for the real-node tests of
// sync/kube/apiservertest/node: `ctr images import` loads what it writes.
//
// It reads a JSON Spec on standard input and writes a docker-archive
// tarball (one layer) tagged Spec.Tag. Each file keeps the mode given and
// its security.capability extended attribute (a file capability set with
// setcap), recorded as a SCHILY.xattr PAX header, which containerd applies
// when it unpacks the layer, as `COPY --from` does in a Dockerfile.
//
// It is a module of its own so that go-containerregistry's dependencies do
// not move the versions the API server and kubelet build with.
package main
