// Writes the Parquet fixtures of tests/data/parquet with two independent writers, DuckDB and
// arrow-rs (through parquet-wasm, for data page v2, small pages and the encodings DuckDB never
// picks), and beside each X.parquet the rows DuckDB itself reads back from it, as X.jsonl: one JSON object
// per row, BIGINT as a decimal string (exact past 2^53), BLOB as lowercase hex, NULL as null.
//
// Usage: node tools/make_parquet_fixtures.mjs DUCKDB_NODE_DIR OUT_DIR GLUE_COLA_DEV_TSV
//   DUCKDB_NODE_DIR: a folder where `npm install @duckdb/node-api parquet-wasm apache-arrow` was
//   run (outside the repo).
import { createRequire } from 'node:module';
import { writeFileSync, readdirSync, unlinkSync } from 'node:fs';
import { join, resolve } from 'node:path';

const [duckdbDir, outDirArg, colaTsv] = process.argv.slice(2);
if (!duckdbDir || !outDirArg || !colaTsv) {
  console.error('usage: node make_parquet_fixtures.mjs DUCKDB_NODE_DIR OUT_DIR GLUE_COLA_DEV_TSV');
  process.exit(2);
}
const outDir = resolve(outDirArg);
const require = createRequire(join(resolve(duckdbDir), 'package.json'));
const { DuckDBInstance } = require('@duckdb/node-api');
const arrow = require('apache-arrow');
const pw = require('parquet-wasm');

const instance = await DuckDBInstance.create(':memory:');
const con = await instance.connect();
// One thread keeps row order and row-group boundaries deterministic.
await con.run('SET threads = 1');
const rows = async (sql) => (await con.runAndReadAll(sql)).getRowObjectsJson();

// All types, nulls, unicode and empty strings; i64 reaches past 2^53 and both extremes.
// `cat` and `small` have few distinct values, so DuckDB dictionary-encodes them.
await con.run(`CREATE TABLE all_types AS SELECT
    CASE WHEN i % 7 = 3 THEN NULL ELSE (i * 2654435761 % 4294967296 - 2147483648)::INTEGER END AS i32,
    CASE WHEN i = 0 THEN -9223372036854775808 WHEN i = 1 THEN 9223372036854775807
         ELSE (i * 11400714819323198485 % 18446744073709551616 - 9223372036854775808)::BIGINT END AS i64,
    (i * 0.37 - 20)::FLOAT AS f32,
    CASE WHEN i % 11 = 5 THEN NULL ELSE i / 7.0 - 3e10 * (i % 3) END::DOUBLE AS f64,
    CASE WHEN i % 5 = 2 THEN NULL ELSE i % 3 = 0 END AS flag,
    CASE WHEN i % 13 = 4 THEN NULL WHEN i % 17 = 6 THEN ''
         ELSE ['héllo', 'naïve café', '日本語テキスト', 'emoji 🙂🚀', 'plain ascii', 'Ωmega ∑'][i % 6 + 1] || ' #' || i::VARCHAR END AS s,
    ('\\x00\\xFF'::BLOB || ('b' || i)::BLOB) AS bin,
    ['red', 'green', 'blue', '', 'ünïcödé'][i % 5 + 1] AS cat,
    (i % 4)::INTEGER AS small
  FROM range(150) r(i)`);

// Column types that a v2 file can hold with the encodings we decode (dictionary) next to the
// DELTA_* / BYTE_STREAM_SPLIT ones DuckDB picks for high-cardinality columns.
const fixtures = [];
const copy = async (name, select, options) => {
  const path = join(outDir, name + '.parquet');
  await con.run(`COPY (${select}) TO '${path}' (FORMAT parquet, ${options})`);
  fixtures.push(name);
};

for (const codec of ['uncompressed', 'snappy', 'zstd', 'gzip'])
  await copy(`all_types_${codec}_v1`, 'SELECT * FROM all_types', `COMPRESSION ${codec}`);
await copy('all_types_zstd_v2', 'SELECT * FROM all_types', 'COMPRESSION zstd, PARQUET_VERSION v2');
await copy('all_types_snappy_v2', 'SELECT * FROM all_types', 'COMPRESSION snappy, PARQUET_VERSION v2');

// Several row groups (DuckDB rounds ROW_GROUP_SIZE up to its 2048-row vectors) and pages.
await copy('row_groups_pages',
  `SELECT i::BIGINT AS id, CASE WHEN i % 9 = 0 THEN NULL ELSE (i % 2)::BIGINT END AS label,
          't' || (i % 97)::VARCHAR AS text
   FROM range(2100) r(i)`, 'COMPRESSION zstd, ROW_GROUP_SIZE 2048');

// Edge cases: no rows; a column that is entirely null; a single row.
await copy('empty', 'SELECT * FROM all_types LIMIT 0', 'COMPRESSION snappy');
await copy('all_null', `SELECT i::INTEGER AS id, NULL::VARCHAR AS nothing, NULL::DOUBLE AS nan_free
                        FROM range(40) r(i)`, 'COMPRESSION uncompressed');

// Lists of primitives (HF's Sequence features): null lists, empty lists.
await copy('lists',
  `SELECT i::INTEGER AS id,
          CASE WHEN i % 7 = 3 THEN NULL WHEN i % 5 = 1 THEN []::INTEGER[]
               ELSE [x * 3 + i FOR x IN range((i % 6)::BIGINT)]::INTEGER[] END AS input_ids,
          [i * 1000000000000, -i]::BIGINT[] AS pair,
          CASE WHEN i % 4 = 0 THEN ['a', 'ü ' || i::VARCHAR, ''] ELSE ['tok' || (i % 3)::VARCHAR] END AS tokens,
          [i / 4.0]::DOUBLE[] AS score
   FROM range(300) r(i)`, 'COMPRESSION snappy');

// Shaped like HF's nyu-mll/glue cola parquet: sentence string, label int64, idx int32, and the
// `huggingface` key-value metadata holding the features.
const hf = JSON.stringify({ info: { features: {
  sentence: { dtype: 'string', _type: 'Value' },
  label: { names: ['unacceptable', 'acceptable'], _type: 'ClassLabel' },
  idx: { dtype: 'int32', _type: 'Value' } } } });
await copy('cola_like',
  `SELECT sentence, label::BIGINT AS label, (row_number() OVER () - 1)::INTEGER AS idx
   FROM read_csv('${resolve(colaTsv)}', delim = '\t', header = false, quote = '',
                 columns = {'source': 'VARCHAR', 'label': 'INTEGER', 'orig': 'VARCHAR', 'sentence': 'VARCHAR'})
   LIMIT 120`,
  `COMPRESSION snappy, KV_METADATA {huggingface: '${hf.replaceAll("'", "''")}'}`);

// arrow-rs: several row groups of 300 rows and pages of at most ~256 bytes (checked every 32
// rows), so every column chunk holds many pages. The v2 file has DATA_PAGE_V2 pages and one
// chosen encoding per column; the v1 file mixes codecs and dictionary/plain fallbacks.
const arrowRows = 800;
const pick = (i, list) => list[i % list.length];
const arrowTable = new arrow.Table({
  i32: arrow.vectorFromArray(Array.from({ length: arrowRows }, (_, i) => (i % 10 === 4 ? null : (i * 7919) % 100003 - 50000)), new arrow.Int32()),
  i64: arrow.vectorFromArray(Array.from({ length: arrowRows }, (_, i) => BigInt(i) * 1234567890123n - 500000000000000n), new arrow.Int64()),
  f32: arrow.vectorFromArray(Array.from({ length: arrowRows }, (_, i) => Math.fround(i / 3 - 100)), new arrow.Float32()),
  f64: arrow.vectorFromArray(Array.from({ length: arrowRows }, (_, i) => (i % 13 === 1 ? null : Math.sqrt(i) * 1e5)), new arrow.Float64()),
  flag: arrow.vectorFromArray(Array.from({ length: arrowRows }, (_, i) => (i % 6 === 5 ? null : i % 4 < 2)), new arrow.Bool()),
  s: arrow.vectorFromArray(Array.from({ length: arrowRows }, (_, i) =>
    i % 9 === 2 ? null : i % 11 === 3 ? '' : `${pick(i, ['prefix shared ', 'prefix shared and more ', 'ünï ', '漢字 '])}${Math.floor(i / 3)}`), new arrow.Utf8()),
  tokens: arrow.vectorFromArray(Array.from({ length: arrowRows }, (_, i) =>
    (i % 8 === 7 ? null : Array.from({ length: i % 5 }, (_, k) => i * 10 + k))), new arrow.List(new arrow.Field('item', new arrow.Int32(), false))),
  cat: arrow.vectorFromArray(Array.from({ length: arrowRows }, (_, i) => pick(i, ['neg', 'pos', 'neutral'])), new arrow.Utf8()),
});
const writeArrow = (name, props) => {
  const wasmTable = pw.Table.fromIPCStream(arrow.tableToIPC(arrowTable, 'stream'));
  writeFileSync(join(outDir, name + '.parquet'), pw.writeParquet(wasmTable, props));
  fixtures.push(name);
};
const smallPages = () => new pw.WriterPropertiesBuilder()
  .setMaxRowGroupSize(300).setDataPageSizeLimit(256).setWriteBatchSize(32).setDictionaryPageSizeLimit(1 << 20);
writeArrow('arrow_v2_pages', smallPages()
  .setWriterVersion(pw.WriterVersion.V2).setCompression(pw.Compression.SNAPPY).setDictionaryEnabled(false)
  .setColumnEncoding('i32', pw.Encoding.DELTA_BINARY_PACKED).setColumnEncoding('i64', pw.Encoding.DELTA_BINARY_PACKED)
  .setColumnEncoding('f32', pw.Encoding.BYTE_STREAM_SPLIT).setColumnEncoding('f64', pw.Encoding.PLAIN)
  .setColumnEncoding('flag', pw.Encoding.RLE).setColumnEncoding('s', pw.Encoding.DELTA_BYTE_ARRAY)
  .setColumnDictionaryEnabled('cat', true).build());
writeArrow('arrow_v1_pages', smallPages()
  .setWriterVersion(pw.WriterVersion.V1).setCompression(pw.Compression.GZIP)
  .setColumnCompression('s', pw.Compression.ZSTD).setColumnCompression('i64', pw.Compression.UNCOMPRESSED)
  .setColumnDictionaryEnabled('i64', false).setColumnDictionaryEnabled('f32', false).build());

// Unsupported on purpose: a list column, a DECIMAL column, the BROTLI codec.
const unsupported = [];
const copyUnsupported = async (name, select, options) => {
  await con.run(`COPY (${select}) TO '${join(outDir, name + '.parquet')}' (FORMAT parquet, ${options})`);
  unsupported.push(name);
};
await copyUnsupported('unsupported_struct', "SELECT i::INTEGER AS id, {'a': i, 'b': 'x'} AS pair FROM range(10) r(i)",
                      'COMPRESSION uncompressed');
await copyUnsupported('unsupported_nested_list', 'SELECT [[i], [i + 1]]::INTEGER[][] AS grid FROM range(10) r(i)',
                      'COMPRESSION uncompressed');
await copyUnsupported('unsupported_null_element', 'SELECT [i, NULL]::INTEGER[] AS pair FROM range(10) r(i)',
                      'COMPRESSION uncompressed');
await copyUnsupported('unsupported_decimal', 'SELECT (i / 4)::DECIMAL(9, 2) AS price FROM range(10) r(i)',
                      'COMPRESSION uncompressed');
await copyUnsupported('unsupported_brotli', 'SELECT i::INTEGER AS id FROM range(10) r(i)', 'COMPRESSION brotli');

// Expected contents: DuckDB's own reading of each file.
for (const name of fixtures) {
  const path = join(outDir, name + '.parquet');
  const columns = await rows(`DESCRIBE SELECT * FROM read_parquet('${path}')`);
  const select = columns.map(c => {
    const q = '"' + c.column_name + '"';
    return c.column_type === 'BLOB' ? `lower(hex(${q})) AS ${q}` : q;
  }).join(', ');
  const data = await rows(`SELECT ${select} FROM read_parquet('${path}')`);
  writeFileSync(join(outDir, name + '.jsonl'), data.map(r => JSON.stringify(r) + '\n').join(''));
}

const summary = await rows(`SELECT file_name, count(DISTINCT row_group_id) AS row_groups,
    string_agg(DISTINCT encodings, ' ') AS encodings, string_agg(DISTINCT compression, ' ') AS codecs
  FROM parquet_metadata('${outDir}/*.parquet') GROUP BY file_name ORDER BY file_name`);
for (const s of summary)
  console.log(`${s.file_name.split('/').pop()}: ${s.row_groups} row group(s), ${s.encodings}, ${s.codecs}`);
console.log((await rows('SELECT version() AS v'))[0].v);
