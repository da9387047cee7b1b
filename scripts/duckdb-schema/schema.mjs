// Prints the DuckDB view of Glassbox Parquet files: DESCRIBE (column types as
// a warehouse sees them) and a query that indexes into the lists of structs,
// proving they are standard Parquet LISTs. Usage: node schema.mjs FILE...
import { DuckDBInstance } from '@duckdb/node-api';

const files = process.argv.slice(2);
if (files.length === 0) {
  console.error('usage: node schema.mjs FILE.parquet...');
  process.exit(2);
}

const instance = await DuckDBInstance.create(':memory:');
const conn = await instance.connect();
const lit = (s) => "'" + s.replaceAll("'", "''") + "'";

async function rows(sql) {
  const reader = await conn.runAndReadAll(sql);
  return reader.getRowObjectsJson();
}

for (const file of files) {
  const name = file.split('/').pop();
  console.log(`== ${name}`);
  console.log('-- DESCRIBE (DuckDB types)');
  for (const r of await rows(`DESCRIBE SELECT * FROM read_parquet(${lit(file)})`)) {
    console.log(`${r.column_name}\t${r.column_type}`);
  }
  // The physical schema as DuckDB parsed it: repetition shows nullability and the 3-level LIST layout.
  console.log('-- parquet_schema (repetition, physical type, logical type)');
  const schema = await rows(`SELECT name, repetition_type, type, converted_type, num_children FROM parquet_schema(${lit(file)})`);
  const stack = [];
  for (const r of schema) {
    const depth = stack.length;
    if (depth > 0) stack[depth - 1]--;
    const kind = r.num_children > 0 ? `group${r.converted_type ? ' (' + r.converted_type + ')' : ''}` : `${r.type}${r.converted_type ? ' (' + r.converted_type + ')' : ''}`;
    console.log(`${'  '.repeat(Math.max(depth - 1, 0))}${depth === 0 ? 'message' : (r.repetition_type ?? '').toLowerCase()} ${kind} ${r.name}`);
    if (r.num_children > 0) stack.push(Number(r.num_children));
    while (stack.length > 0 && stack[stack.length - 1] === 0) stack.pop();
  }
  const meta = await rows(`SELECT DISTINCT f.created_by, m.compression FROM parquet_file_metadata(${lit(file)}) f, parquet_metadata(${lit(file)}) m`);
  console.log(`-- created_by / compression: ${meta.map((m) => `${m.created_by} / ${m.compression}`).join('; ')}`);
  if (name.startsWith('explanations-')) {
    for (const r of await rows(`SELECT example_id, gold_label, probs[2] AS p1, tokens[2].text AS tok1, tokens[2].attribution AS a1,
        len(tokens) AS n_tokens, words[1].text AS w0, baseline_score, quality FROM read_parquet(${lit(file)}) ORDER BY source_line`)) {
      console.log('row: ' + JSON.stringify(r));
    }
    // Unnesting is what warehouse users do with the token list.
    for (const r of await rows(`SELECT example_id, t.text, t.word_index, t.attribution FROM read_parquet(${lit(file)}), UNNEST(tokens) AS u(t)
        WHERE NOT t.special ORDER BY source_line, t.index`)) {
      console.log('token: ' + JSON.stringify(r));
    }
  } else if (name.startsWith('attention-')) {
    for (const r of await rows(`SELECT example_id, head, seq_len, len(weights) AS n, weights[5] AS w11, tokens FROM read_parquet(${lit(file)})`)) {
      console.log('row: ' + JSON.stringify(r));
    }
  } else if (name === 'errors.parquet') {
    for (const r of await rows(`SELECT line, example_id, stage, code, reason, raw FROM read_parquet(${lit(file)})`)) {
      console.log('row: ' + JSON.stringify(r));
    }
  }
  console.log();
}
