// Package schemas defines Glassbox's Parquet row types: the output contract
// read by warehouses (BigQuery, DuckDB, Spark). Every column is documented in
// schemas/README.md; a change to a column's name, type or meaning bumps
// Version.
//
// The struct tags follow github.com/parquet-go/parquet-go: slices carry the
// "list" tag so they are written as standard three-level Parquet LISTs (which
// warehouses read as arrays), nullable columns are pointers tagged
// "optional", and every column is zstd-compressed.
//
// It never imports Beam.
package schemas
