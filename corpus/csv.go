package corpus

import (
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/glassbox-ai/glassbox/schemas"
)

// recorder keeps the bytes encoding/csv has read but not yet attributed to a
// record, so each row's raw text can be reported exactly.
type recorder struct {
	r    io.Reader
	buf  []byte
	base int64 // input offset of buf[0]
}

func (rc *recorder) Read(p []byte) (int, error) {
	n, err := rc.r.Read(p)
	rc.buf = append(rc.buf, p[:n]...)
	return n, err
}

// take returns the bytes from the previous take up to offset and forgets them.
func (rc *recorder) take(offset int64) []byte {
	n := int(offset - rc.base)
	if n < 0 {
		n = 0
	}
	if n > len(rc.buf) {
		n = len(rc.buf)
	}
	out := append([]byte(nil), rc.buf[:n]...)
	rc.buf = append(rc.buf[:0], rc.buf[n:]...)
	rc.base += int64(n)
	return out
}

// splitBlankPrefix separates the empty lines encoding/csv skipped before a
// record from the record's own bytes; it returns how many there were.
func splitBlankPrefix(b []byte) (int, []byte) {
	blanks := 0
	for {
		switch {
		case bytes.HasPrefix(b, []byte("\n")):
			b = b[1:]
		case bytes.HasPrefix(b, []byte("\r\n")):
			b = b[2:]
		default:
			return blanks, b
		}
		blanks++
	}
}

// countLines counts the lines of b; a final fragment such as a lone "\r" is a line too.
func countLines(b []byte) int64 {
	n := int64(bytes.Count(b, []byte("\n")))
	if len(b) > 0 && b[len(b)-1] != '\n' {
		n++
	}
	return n
}

func trimLineEnd(b []byte) []byte {
	b = bytes.TrimSuffix(b, []byte("\n"))
	return bytes.TrimSuffix(b, []byte("\r"))
}

func (p *parser) parseCSV(r io.Reader) error {
	rc := &recorder{r: r}
	cr := csv.NewReader(rc)
	cr.FieldsPerRecord = -1 // field counts are checked per row, to report them as BadRecords

	header, err := cr.Read()
	if errors.Is(err, io.EOF) {
		// No header: the file is empty or holds only empty lines, reported as such.
		rest := rc.take(rc.base + int64(len(rc.buf)))
		for i := int64(1); i <= countLines(rest); i++ {
			if err := p.reject(i, nil, "", schemas.CodeBlankLine, "blank line"); err != nil {
				return err
			}
		}
		return nil
	}
	if err != nil {
		return fmt.Errorf("csv header: %w", err)
	}
	headerLine, _ := cr.FieldPos(0)
	blanks, headerRaw := splitBlankPrefix(rc.take(cr.InputOffset()))
	for i := 0; i < blanks; i++ {
		if err := p.reject(int64(i+1), nil, "", schemas.CodeBlankLine, "blank line"); err != nil {
			return err
		}
	}
	col := map[string]int{}
	for i, name := range header {
		if i == 0 {
			name = strings.TrimPrefix(name, "\uFEFF")
		}
		if _, dup := col[name]; dup {
			return fmt.Errorf("csv header: duplicate column %q", name)
		}
		col[name] = i
	}
	textCol, ok := col[p.fields.Text]
	if !ok {
		return fmt.Errorf("csv header has no text column %q (columns: %s)", p.fields.Text, strings.Join(header, ", "))
	}
	idCol, hasID := col[p.fields.ID]
	labelCol, hasLabel := col[p.fields.Label]

	// lastLine is the last physical line attributed to the header or a row.
	lastLine := int64(headerLine) + int64(bytes.Count(trimLineEnd(headerRaw), []byte("\n")))
	for {
		if err := p.tick(); err != nil {
			return err
		}
		rec, err := cr.Read()
		if errors.Is(err, io.EOF) {
			// Whatever follows the last row is lines encoding/csv skipped as empty.
			rest := rc.take(rc.base + int64(len(rc.buf)))
			for i := int64(1); i <= countLines(rest); i++ {
				if err := p.reject(lastLine+i, nil, "", schemas.CodeBlankLine, "blank line"); err != nil {
					return err
				}
			}
			return nil
		}
		var pe *csv.ParseError
		if err != nil && !errors.As(err, &pe) {
			return fmt.Errorf("csv read after line %d: %w", lastLine, err)
		}
		raw := rc.take(cr.InputOffset())
		blanks, body := splitBlankPrefix(raw)
		var start int64
		if pe != nil {
			start = int64(pe.StartLine)
		} else {
			line, _ := cr.FieldPos(0)
			start = int64(line)
		}
		// Skipped empty lines sit between the previous row and this one.
		for i := 0; i < blanks; i++ {
			if err := p.reject(start-int64(blanks-i), nil, "", schemas.CodeBlankLine, "blank line"); err != nil {
				return err
			}
		}
		body = trimLineEnd(body)
		lastLine = start + int64(bytes.Count(body, []byte("\n")))
		if pe != nil {
			// Report the error relative to the row, as users see it in an editor.
			if err := p.reject(start, nil, string(body), schemas.CodeParseError, "invalid CSV: "+pe.Err.Error()+fmt.Sprintf(" (line %d, column %d)", pe.Line, pe.Column)); err != nil {
				return err
			}
			continue
		}
		if err := p.csvRow(start, rec, len(header), textCol, idCol, hasID, labelCol, hasLabel, string(body)); err != nil {
			return err
		}
	}
}

func (p *parser) csvRow(line int64, rec []string, width, textCol, idCol int, hasID bool, labelCol int, hasLabel bool, raw string) error {
	if len(rec) != width {
		return p.reject(line, nil, raw, schemas.CodeParseError, fmt.Sprintf("row has %d fields, header has %d", len(rec), width))
	}
	for _, c := range []struct {
		name string
		col  int
		use  bool
	}{{p.fields.Text, textCol, true}, {p.fields.ID, idCol, hasID}, {p.fields.Label, labelCol, hasLabel}} {
		if c.use {
			if off := invalidUTF8([]byte(rec[c.col])); off >= 0 {
				return p.reject(line, nil, raw, schemas.CodeInvalidUTF8, fmt.Sprintf("invalid UTF-8 in column %q at byte %d", c.name, off))
			}
		}
	}
	id := ""
	if hasID {
		id = rec[idCol]
	}
	if strings.TrimSpace(id) == "" {
		id = p.derivedID(line)
	}
	var label *string
	if hasLabel && rec[labelCol] != "" {
		l := rec[labelCol]
		label = &l
	}
	return p.accept(line, id, rec[textCol], label, raw)
}
