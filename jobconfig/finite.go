package jobconfig

import (
	"fmt"
	"math"
	"reflect"
	"strings"
)

// nonFinite reports every NaN or infinite float under v, each named by its
// key path. The per-method and surrogate validators check ranges with
// comparisons such as "> 0" that an infinity passes, but the canonical JSON
// (hashed into the run id, embedded in the manifest) cannot hold one: a
// config that validates must have a canonical form.
func nonFinite(v reflect.Value, path string) []error {
	switch v.Kind() {
	case reflect.Pointer, reflect.Interface:
		if v.IsNil() {
			return nil
		}
		return nonFinite(v.Elem(), path)
	case reflect.Struct:
		var errs []error
		for i := 0; i < v.NumField(); i++ {
			f := v.Type().Field(i)
			if !f.IsExported() {
				continue // Methods keeps its parameters unexported; Validate walks them itself
			}
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if name == "-" {
				continue
			}
			if name == "" {
				name = strings.ToLower(f.Name)
			}
			errs = append(errs, nonFinite(v.Field(i), joinPath(path, name))...)
		}
		return errs
	case reflect.Slice, reflect.Array:
		var errs []error
		for i := 0; i < v.Len(); i++ {
			errs = append(errs, nonFinite(v.Index(i), fmt.Sprintf("%s[%d]", path, i))...)
		}
		return errs
	case reflect.Float32, reflect.Float64:
		if x := v.Float(); math.IsNaN(x) || math.IsInf(x, 0) {
			return []error{fmt.Errorf("%s: %v is not allowed (must be a finite number)", path, x)}
		}
	}
	return nil
}
