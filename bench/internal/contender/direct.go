package contender

import "context"

// Direct is no interceptor: the client's queries go to the upstream.
type Direct struct{}

// Name implements Contender.
func (Direct) Name() string { return "direct" }

// Check implements Contender.
func (Direct) Check(*Env) error { return nil }

// Start implements Contender: nothing to start; it only checks that the
// upstream answers.
func (Direct) Start(ctx context.Context, env *Env) (*Instance, error) {
	if err := ResetNamespace(ctx, env.Pod); err != nil {
		return nil, err
	}
	if err := Probe(ctx, env.Pod, env.nameserver(), env.ProbeName, startTimeout); err != nil {
		return nil, err
	}
	return &Instance{Meta: map[string]string{"rules": "none"}}, nil
}
