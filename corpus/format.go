package corpus

import (
	"fmt"
	"path"
	"strings"
)

// Format is an input file format.
type Format string

// The supported input formats.
const (
	// FormatText is one example per line; the whole line is the text.
	FormatText Format = "text"
	// FormatJSONL is one JSON object per line.
	FormatJSONL Format = "jsonl"
	// FormatCSV is RFC 4180 CSV with a header row.
	FormatCSV Format = "csv"
	// FormatParquet is a Parquet file with top-level string text/id/label columns.
	FormatParquet Format = "parquet"
)

// Formats lists every supported format, in documentation order.
var Formats = []Format{FormatText, FormatJSONL, FormatCSV, FormatParquet}

// ParseFormat validates a format name as written in a config or flag.
func ParseFormat(s string) (Format, error) {
	for _, f := range Formats {
		if string(f) == s {
			return f, nil
		}
	}
	return "", fmt.Errorf("unknown input format %q (allowed: text, jsonl, csv, parquet)", s)
}

// FormatFromPath picks the format from a local path's or URL's (gs://...)
// extension, case-insensitively. ".json" is rejected rather than guessed:
// it may hold one JSON document instead of JSON Lines, and guessing wrong
// would turn a whole file into parse errors.
func FormatFromPath(p string) (Format, error) {
	// path.Ext works on both local paths and gs:// URLs; drop a query string or fragment first.
	clean := p
	if i := strings.IndexAny(clean, "?#"); i >= 0 && strings.Contains(clean, "://") {
		clean = clean[:i]
	}
	ext := strings.ToLower(path.Ext(clean))
	switch ext {
	case ".txt", ".text":
		return FormatText, nil
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	case ".csv":
		return FormatCSV, nil
	case ".parquet":
		return FormatParquet, nil
	case ".json":
		return "", fmt.Errorf("input %s: .json is ambiguous (one JSON document or JSON Lines?): rename it to .jsonl or set the format to jsonl", p)
	case "":
		return "", fmt.Errorf("input %s: no file extension to infer the format from; set the format (text, jsonl, csv, parquet)", p)
	default:
		return "", fmt.Errorf("input %s: unknown extension %q (known: .txt, .text, .jsonl, .ndjson, .csv, .parquet); set the format explicitly", p, ext)
	}
}
