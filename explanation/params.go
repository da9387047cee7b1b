package explanation

import (
	"errors"
	"fmt"
	"slices"
	"strings"
)

// ParamErrors gathers a parameter struct's problems so Validate reports them
// all at once, each as "key: problem"; the job config prefixes the method's path.
type ParamErrors struct{ errs []error }

// OneOf records a problem unless value is one of allowed.
func (p *ParamErrors) OneOf(key, value string, allowed ...string) {
	if !slices.Contains(allowed, value) {
		p.errs = append(p.errs, fmt.Errorf("%s: %q is not allowed (allowed: %s)", key, value, strings.Join(allowed, ", ")))
	}
}

// AtLeast records a problem unless value ≥ min; what says what is allowed.
func (p *ParamErrors) AtLeast(key string, value, min int, what string) {
	if value < min {
		p.errs = append(p.errs, fmt.Errorf("%s: %d is not allowed (%s)", key, value, what))
	}
}

// Check records a problem unless ok.
func (p *ParamErrors) Check(ok bool, key, format string, args ...any) {
	if !ok {
		p.errs = append(p.errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
}

// Masking records a problem unless value is a masking request (see MaskingValues).
func (p *ParamErrors) Masking(value string) {
	p.OneOf("masking", value, MaskingValues...)
}

// Err returns the recorded problems joined, or nil.
func (p *ParamErrors) Err() error { return errors.Join(p.errs...) }
