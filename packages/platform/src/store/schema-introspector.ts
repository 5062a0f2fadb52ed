// Kysely's PostgreSQL introspector reads the catalog of every schema in the database, and calls
// functions on each table it finds; when another client drops a schema during that read (tests and
// hosts sharing one database, each in its own schema), the read fails with "schema ... does not
// exist" though nothing is wrong with ours. The migrator only asks which tables exist, so the
// platform's store looks at its own schema alone, through information_schema.
import {
  type DatabaseIntrospector,
  type DatabaseMetadata,
  type DatabaseMetadataOptions,
  type Kysely,
  PostgresDialect,
  type SchemaMetadata,
  sql,
  type TableMetadata,
} from 'kysely';

interface ColumnRow {
  table: string;
  view: boolean;
  column: string | null;
  type: string | null;
  nullable: boolean | null;
  generated: boolean | null;
  defaulted: boolean | null;
}

class SchemaIntrospector implements DatabaseIntrospector {
  readonly #db: Kysely<unknown>;
  readonly #schema: string;

  constructor(db: Kysely<unknown>, schema: string) {
    this.#db = db;
    this.#schema = schema;
  }

  async getSchemas(): Promise<SchemaMetadata[]> {
    const { rows } = await sql<{ name: string }>`select nspname as name from pg_namespace where nspname = ${this.#schema}`.execute(
      this.#db,
    );
    return rows;
  }

  async getTables(_options?: DatabaseMetadataOptions): Promise<TableMetadata[]> {
    const { rows } = await sql<ColumnRow>`
      select t.table_name as "table", t.table_type = 'VIEW' as "view", c.column_name as "column", c.udt_name as "type",
             c.is_nullable = 'YES' as "nullable", c.column_default like 'nextval(%' or c.is_identity = 'YES' as "generated",
             c.column_default is not null or c.is_identity = 'YES' as "defaulted"
      from information_schema.tables t
      left join information_schema.columns c on c.table_schema = t.table_schema and c.table_name = t.table_name
      where t.table_schema = ${this.#schema}
      order by t.table_name, c.ordinal_position`.execute(this.#db);
    const tables = new Map<string, TableMetadata & { columns: TableMetadata['columns'][number][] }>();
    for (const row of rows) {
      const table = tables.get(row.table) ?? { name: row.table, schema: this.#schema, isView: row.view, columns: [] };
      tables.set(row.table, table);
      if (row.column === null) continue;
      table.columns.push({
        name: row.column,
        dataType: row.type ?? 'unknown',
        isNullable: row.nullable === true,
        isAutoIncrementing: row.generated === true,
        hasDefaultValue: row.defaulted === true,
      });
    }
    return [...tables.values()];
  }

  async getMetadata(options?: DatabaseMetadataOptions): Promise<DatabaseMetadata> {
    return { tables: await this.getTables(options) };
  }
}

/** PostgreSQL, with introspection confined to the store's schema. */
export class SchemaDialect extends PostgresDialect {
  readonly #schema: string;

  constructor(config: ConstructorParameters<typeof PostgresDialect>[0], schema: string) {
    super(config);
    this.#schema = schema;
  }

  override createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SchemaIntrospector(db, this.#schema);
  }
}
