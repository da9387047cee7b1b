// Package perturbation implements the perturbation attribution methods of
// Glassbox: occlusion (leave-one-out), KernelSHAP and LIME. Each explains one
// example through an explanation.Scorer, following ../shared/conventions.md:
// special tokens are never perturbed and get attribution 0, a token is made
// absent by the request's masking (attention mask 0, or its id replaced), and
// the empty coalition is the input with every non-special token absent.
//
// Every method builds all the perturbed inputs of an example first and hands
// them, together with the unperturbed input and the empty coalition, to the
// scorer in a single Score call, so the scorer can batch them at the job's
// batch size. Identical coalitions are scored once.
//
// Word-level results (occlusion at word level, KernelSHAP with word players,
// LIME) set Result.Words to the word values and spread each word's value
// equally over its tokens in Result.Tokens, so word sums of the tokens equal
// the word values. A non-special token whose word id is negative still gets
// perturbed: it is a player of its own and appears in Result.Tokens only.
//
// The package is pure Go and never imports Beam; randomness is drawn from
// explanation.NewRand with the request's seed, so reruns are bit-identical.
package perturbation
