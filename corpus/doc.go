// Package corpus parses input rows (plain text lines, JSON Lines, CSV and
// Parquet) into Records that carry their source location, and reports every
// row it cannot use as a BadRecord with a reason code (one of
// schemas.ReasonCodes, e.g. empty_text, parse_error) and a precise reason:
// nothing is dropped silently.
//
// Rules shared by every format:
//   - Text and JSONL files are split on "\n" only. Lines may contain "\r",
//     U+2028 or U+0085; only the "\r" of a "\r\n" line ending is stripped.
//     The empty fragment after a file's final "\n" is not a line; any other
//     blank line is a BadRecord.
//   - Line numbers are 1-based. CSV rows are numbered by the physical line
//     they start on (encoding/csv's FieldPos), the header being line 1.
//     Parquet rows are numbered by their 1-based row index.
//   - A text that is empty after trimming white space, invalid UTF-8, a
//     missing text field, a non-string text and an unparsable row are
//     BadRecords.
//   - The id is the id field when present (a JSON string or integer; a
//     missing, null or blank id is not an error), else "<base name of
//     source>:<line>". A second row with an id already emitted from the same
//     source is a BadRecord ("duplicate id").
//   - A UTF-8 byte order mark at the start of a file is ignored.
//
// File-level problems (a CSV header or Parquet schema without the text
// column, a file that is not Parquet, a read error) make Parse return an
// error instead, since no row of such a file can be used.
//
// It never imports Beam: the pipeline reads files and calls Parse.
package corpus
