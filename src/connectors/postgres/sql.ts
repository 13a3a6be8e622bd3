// SQL text of the PostgreSQL sink: quoted identifiers, multi-row INSERT (and upsert) statements.

/** PostgreSQL's limit of bind parameters in one statement. */
export const MAX_PARAMETERS = 65_535;

/**
 * A quoted identifier: any name (validated non-empty, without NUL) is safe in SQL text.
 *
 * @example quoteIdentifier('order "id"') // '"order ""id"""'
 */
export function quoteIdentifier(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

/** `name` or `schema.name`, each part quoted. @example quoteTable('shop.orders') // '"shop"."orders"' */
export function quoteTable(table: string): string {
  return table.split('.').map(quoteIdentifier).join('.');
}

/**
 * Builds the INSERT of `rows` rows into a table (cached per row count: a full batch is one text),
 * with `ON CONFLICT (key) DO UPDATE SET <other columns> = EXCLUDED.<column>` when `key` is given.
 *
 * @example new InsertStatements('t', ['a', 'b'], ['a']).text(2)
 * // 'INSERT INTO "t" ("a", "b") VALUES ($1, $2), ($3, $4) ON CONFLICT ("a") DO UPDATE SET "b" = EXCLUDED."b"'
 */
export class InsertStatements {
  private readonly cache = new Map<number, string>();
  private readonly head: string;
  private readonly tail: string;

  constructor(
    table: string,
    private readonly columns: readonly string[],
    key: readonly string[] | undefined,
  ) {
    this.head = `INSERT INTO ${quoteTable(table)} (${columns.map(quoteIdentifier).join(', ')}) VALUES `;
    if (key === undefined) this.tail = '';
    else {
      const others = columns.filter((c) => !key.includes(c));
      const conflict = `ON CONFLICT (${key.map(quoteIdentifier).join(', ')})`;
      this.tail = others.length === 0 ? ` ${conflict} DO NOTHING` : ` ${conflict} DO UPDATE SET ${others.map((c) => `${quoteIdentifier(c)} = EXCLUDED.${quoteIdentifier(c)}`).join(', ')}`;
    }
  }

  /** Rows per statement that keep it within PostgreSQL's parameter limit. */
  maxRows(wanted: number): number {
    return Math.max(1, Math.min(wanted, Math.floor(MAX_PARAMETERS / this.columns.length)));
  }

  text(rows: number): string {
    let text = this.cache.get(rows);
    if (text === undefined) {
      const width = this.columns.length;
      const tuples: string[] = [];
      for (let r = 0; r < rows; r++) {
        const params: string[] = [];
        for (let c = 1; c <= width; c++) params.push(`$${r * width + c}`);
        tuples.push(`(${params.join(', ')})`);
      }
      text = `${this.head}${tuples.join(', ')}${this.tail}`;
      if (this.cache.size < 8) this.cache.set(rows, text);
    }
    return text;
  }
}

/**
 * Upsert rows of one statement must not hit the same key twice (PostgreSQL refuses: "ON CONFLICT DO
 * UPDATE command cannot affect row a second time"): the last row of each key wins, as it would
 * written one by one.
 *
 * @example lastPerKey([[1, 'a'], [1, 'b'], [2, 'c']], [0]) // [[1, 'b'], [2, 'c']]
 */
export function lastPerKey(rows: readonly (readonly unknown[])[], keyIndexes: readonly number[]): (readonly unknown[])[] {
  const last = new Map<string, number>();
  rows.forEach((row, i) => last.set(JSON.stringify(keyIndexes.map((k) => row[k]), (_, v) => (typeof v === 'bigint' ? `${v}n` : v)), i));
  if (last.size === rows.length) return rows as (readonly unknown[])[];
  const keep = new Set(last.values());
  return rows.filter((_, i) => keep.has(i));
}
