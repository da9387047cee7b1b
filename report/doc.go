// Package report turns a finished run's own outputs (manifest.json, the
// explanation, global-importance, error and attention Parquet files, and
// surrogates.json when there is one) into one self-contained static HTML
// file: an overview, global importances, a bounded and stated selection of
// examples with heat maps, attention, surrogates and errors.
//
// The page needs nothing outside itself: CSS, SVG charts (built here, in Go)
// and a little plain JavaScript for filtering are inlined, and every string
// taken from the run is escaped by html/template. Reading goes through FS,
// so callers pass local disk (Local) or an adapter of their own for gs://;
// the package never imports Beam.
package report
