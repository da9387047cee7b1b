// Package jobconfig loads, validates and canonicalises the job's YAML
// config, derives the run id, and writes the run manifest.
//
// The flow is Load (strict: unknown keys and ill-typed values are errors that
// name the key path), then ApplyOverrides for CLI flags, then Validate (value
// checks, naming the key and the allowed values). Load does not validate
// values on its own because a flag may still supply or fix them (a missing
// model, say). Relative paths in a config are relative to the working
// directory, not to the config file, so `make run` can use repository paths.
//
// It never imports Beam.
package jobconfig
