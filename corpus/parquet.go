package corpus

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/parquet-go/parquet-go"

	"github.com/glassbox-ai/glassbox/schemas"
)

// parquetColumn is one top-level column Parse reads from a Parquet file.
type parquetColumn struct {
	name   string
	index  int
	kind   parquet.Kind
	exists bool
}

func lookupColumn(schema *parquet.Schema, name string, required bool, allowInt bool) (parquetColumn, error) {
	leaf, ok := schema.Lookup(name)
	if !ok {
		if required {
			return parquetColumn{}, fmt.Errorf("parquet schema has no column %q (columns: %s)", name, columnNames(schema))
		}
		return parquetColumn{name: name}, nil
	}
	if leaf.MaxRepetitionLevel > 0 {
		return parquetColumn{}, fmt.Errorf("parquet column %q is repeated, want a single string", name)
	}
	kind := leaf.Node.Type().Kind()
	switch {
	case kind == parquet.ByteArray:
	case allowInt && (kind == parquet.Int32 || kind == parquet.Int64):
	default:
		want := "a string"
		if allowInt {
			want = "a string or integer"
		}
		return parquetColumn{}, fmt.Errorf("parquet column %q has type %s, want %s", name, leaf.Node.Type(), want)
	}
	return parquetColumn{name: name, index: leaf.ColumnIndex, kind: kind, exists: true}, nil
}

func columnNames(schema *parquet.Schema) string {
	var b bytes.Buffer
	for i, f := range schema.Fields() {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(f.Name())
	}
	return b.String()
}

// value returns the column's value in row as text; present is false for null.
func (c parquetColumn) value(row parquet.Row) (s string, present bool) {
	if !c.exists {
		return "", false
	}
	for _, v := range row {
		if v.Column() != c.index {
			continue
		}
		if v.IsNull() {
			return "", false
		}
		switch c.kind {
		case parquet.Int32:
			return strconv.FormatInt(int64(v.Int32()), 10), true
		case parquet.Int64:
			return strconv.FormatInt(v.Int64(), 10), true
		default:
			return string(v.ByteArray()), true
		}
	}
	return "", false
}

// parseParquet reads r fully, since Parquet needs random access (io.ReaderAt).
func (p *parser) parseParquet(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return fmt.Errorf("read parquet: %w", err)
	}
	f, err := openParquet(data)
	if err != nil {
		return err
	}
	schema := f.Schema()
	textCol, err := lookupColumn(schema, p.fields.Text, true, false)
	if err != nil {
		return err
	}
	idCol, err := lookupColumn(schema, p.fields.ID, false, true)
	if err != nil {
		return err
	}
	labelCol, err := lookupColumn(schema, p.fields.Label, false, true)
	if err != nil {
		return err
	}

	reader := parquet.NewReader(f)
	defer reader.Close()
	rows := make([]parquet.Row, 128)
	var line int64
	for {
		n, rerr := readRows(reader, rows)
		for _, row := range rows[:n] {
			line++
			if err := p.tick(); err != nil {
				return err
			}
			if err := p.parquetRow(line, row, textCol, idCol, labelCol); err != nil {
				return err
			}
		}
		if errors.Is(rerr, io.EOF) {
			// A damaged file can run out of pages early while its footer
			// still declares every row: rows must never go missing silently.
			if line != f.NumRows() {
				return fmt.Errorf("read parquet: the file declares %d rows, %d could be read", f.NumRows(), line)
			}
			return nil
		}
		if rerr != nil {
			return fmt.Errorf("read parquet row %d: %w", line+1, rerr)
		}
	}
}

// readRows turns parquet-go's panics on corrupt pages into errors, as openParquet does for the footer.
func readRows(r *parquet.Reader, rows []parquet.Row) (n int, err error) {
	defer func() {
		if p := recover(); p != nil {
			n, err = 0, fmt.Errorf("corrupt parquet data: %v", p)
		}
	}()
	return r.ReadRows(rows)
}

// openParquet turns parquet-go's panics on corrupt files into errors.
func openParquet(data []byte) (f *parquet.File, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("open parquet: %v", r)
		}
	}()
	// parquet-go allocates the footer length a file declares (up to 4 GiB)
	// before comparing it with the file's size: refuse a damaged length first.
	if n := len(data); n >= 8 && (string(data[n-4:]) == "PAR1" || string(data[n-4:]) == "PARE") {
		if footer := int64(binary.LittleEndian.Uint32(data[n-8:])); footer > int64(n)-12 {
			return nil, fmt.Errorf("open parquet: footer length %d does not fit in the file (%d bytes)", footer, n)
		}
	}
	f, err = parquet.OpenFile(bytes.NewReader(data), int64(len(data)))
	if err != nil {
		return nil, fmt.Errorf("open parquet: %w", err)
	}
	return f, nil
}

func (p *parser) parquetRow(line int64, row parquet.Row, textCol, idCol, labelCol parquetColumn) error {
	text, hasText := textCol.value(row)
	id, hasID := idCol.value(row)
	label, hasLabel := labelCol.value(row)
	raw := text
	if !utf8.ValidString(id) {
		return p.reject(line, nil, raw, schemas.CodeInvalidUTF8, fmt.Sprintf("invalid UTF-8 in column %q", idCol.name))
	}
	if !hasID || strings.TrimSpace(id) == "" {
		id = p.derivedID(line)
	}
	if !hasText {
		return p.reject(line, &id, "", schemas.CodeMissingField, fmt.Sprintf("text column %q is null", textCol.name))
	}
	if off := invalidUTF8([]byte(text)); off >= 0 {
		return p.reject(line, &id, raw, schemas.CodeInvalidUTF8, fmt.Sprintf("invalid UTF-8 in column %q at byte %d", textCol.name, off))
	}
	if !utf8.ValidString(label) {
		return p.reject(line, &id, raw, schemas.CodeInvalidUTF8, fmt.Sprintf("invalid UTF-8 in column %q", labelCol.name))
	}
	var lp *string
	if hasLabel && label != "" {
		lp = &label
	}
	return p.accept(line, id, text, lp, raw)
}
