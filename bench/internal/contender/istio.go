package contender

import "context"

// Istio is Istio's DNS proxy code (bench/istio) behind istio-init's
// REDIRECT, as uid 1337.
type Istio struct{}

// Name implements Contender.
func (Istio) Name() string { return "istio" }

// Check implements Contender.
func (Istio) Check(env *Env) error { return needBin("istio (bench/istio)", env.Bins.Istio) }

// Start implements Contender.
func (Istio) Start(ctx context.Context, env *Env) (*Instance, error) {
	return startLocal(ctx, env, ProcSpec{
		Name: "istio",
		Path: env.Bins.Istio,
		Args: []string{
			"--objects", env.Files.Objects,
			"--namespace", env.PodNamespace,
			"--cluster-domain", env.ClusterDomain,
		},
		LogPath: env.logPath("istio"),
		Ready:   "msg=serving",
	}, env.ProbeName)
}
