// Package methods links every attribution method into a program: importing it
// runs the registrations (explanation.Register) of the packages that implement
// methods. A new method package is one more import here; a new method in an
// existing package is its file and its registry entry.
package methods

import (
	// Raw attention, rollout and flow.
	_ "github.com/glassbox-ai/glassbox/attention"
	// Saliency, gradient × input and Integrated Gradients.
	_ "github.com/glassbox-ai/glassbox/gradient"
	// Occlusion, KernelSHAP and LIME.
	_ "github.com/glassbox-ai/glassbox/perturbation"
)
