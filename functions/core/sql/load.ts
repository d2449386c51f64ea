/**
 * The load batch: one BatchExecuteStatement (one transaction) that LOCKs the target and
 * its ledger FIRST (Redshift's serializable isolation: a LOCK after other statements does
 * not serialize; ARCHITECTURE.md, "Concurrency on Redshift"), re-checks (the guard, reading
 * only the table's ledger), stages the partition with one COPY, records affected hours,
 * applies the mode, writes the audit rows blindly (no read of the shared audit tables) and
 * grants, and ends with the outcome row. The table, its schema and its ledger exist before
 * (renderLoadPrerequisites, run by the warehouse-state read that precedes every load).
 * Order: ARCHITECTURE.md, "One load = one transaction".
 */
import type { ForkliftConfig, LoadMode, TableConfig } from '../config/schema';
import { ForkliftError } from '../errors';
import { integerLiteral, literal, qualified, quoteIdent, timestampLiteral } from '../identifiers';
import type { Partition, StepRef } from '../types';
import { renderAffectedHours, renderLoadHours, type RowSource } from './affectedHours';
import { renderLoadAggregates, type ExistingTables } from './aggregate';
import { auditIdentity, auditTable, textFitting } from './audit';
import { renderCopy, renderFileListCopy, renderFileListInsert } from './copy';
import { rawTableColumns, renderColumnDefinition, renderRawTableDdl } from './ddl';
import { renderGrants } from './grants';
import { FILES_TABLE, GUARD_TABLE, guardAllows, renderGuard, renderSnapshotCheck } from './guard';
import { ledgerTable, renderLedgerDdl } from './ledger';
import { assertFitsBatch } from './limits';
import { PARTITION_COLUMN } from './relations';

/** The staging temp table (`LIKE` the target). */
export const STAGING_TABLE = 'forklift_staging';
/** The temp table holding the load's file list: read by the guard, then copied (guarded) to load_files. */
export { FILES_TABLE };

/** Everything the load batch depends on; time and ids are passed in. */
export interface LoadBatchArgs {
  config: ForkliftConfig;
  table: string;
  /** The execution name. */
  loadId: string;
  partition: Partition;
  /** `s3://bucket/key` of the COPY manifest. */
  manifestUrl: string;
  /** `s3://bucket/key` of the file list (copy.ts renderFileList), COPYed into the file-list temp table when too long to inline. */
  fileListUrl: string;
  /** The effective mode (`truncate` when the run's truncate flag is set). */
  mode: LoadMode;
  /** True when rows of this partition may already be in the table (decideLoad). */
  reload: boolean;
  force: boolean;
  /** Why this load runs (decideLoad's reason); the guard's reason replaces it when the guard skips. */
  reason: string;
  /** `ALTER TABLE ... ADD COLUMN` statements from planSchemaChanges. */
  addColumns: string[];
  /** The groups to grant SELECT to (grants.ts splitGrantees: the existing ones); default the table's readOnlyGroups. */
  grantGroups?: readonly string[];
  startedAt: Date;
  /**
   * When Prepare planned this batch, moments before its submission (the loads row's `planned_at`): the
   * polling schedule learns from planned → audit row what the table's batches take, queueing and lock waits
   * included, a completeness wait or Prepare's own reads not.
   */
  plannedAt: Date;
  /**
   * The aggregates fed by the table, recomputed inside this batch (ARCHITECTURE.md, "Aggregates"),
   * with their tables' columns as read before the load; absent: they get their own batch later.
   */
  aggregates?: { names: readonly string[]; existing: ExistingTables; existingGroups?: ReadonlySet<string> };
}

/** The rendered batch. */
export interface LoadBatch {
  sqls: string[];
  /** True when the batch COPYs the file list from `fileListUrl` (too long to inline): Prepare writes it first. */
  readsFileList: boolean;
  /** 1-based index of the final `SELECT status, reason, rows_loaded`. */
  outcomeStatement: number;
  /** The raw step: the INSERT into the target. */
  steps: StepRef[];
}

/**
 * What a load batch needs to exist before its first statement (the LOCK): the audit tables,
 * the table's schema, the table and its ledger, all IF NOT EXISTS. The warehouse-state read
 * (state.ts) runs them until its container knows they exist, and every load is planned from one.
 */
export function renderLoadPrerequisites(config: ForkliftConfig, name: string): string[] {
  const table = config.tables[name];
  if (!table) throw new ForkliftError(`unknown table '${name}'`);
  return [...renderRawTableDdl(name, table), renderLedgerDdl(config.warehouse.auditSchema, table.schema, name)];
}

/** Renders the load batch. Throws ForkliftError for an unknown table, IdentifierError for a hostile key or id. */
export function renderLoadBatch(args: LoadBatchArgs): LoadBatch {
  const { config, table: name, partition } = args;
  const table = config.tables[name];
  if (!table) throw new ForkliftError(`unknown table '${name}'`);
  if (partition.table !== name) throw new ForkliftError(`partition of '${partition.table}' given for table '${name}'`);
  const audit = config.warehouse.auditSchema;
  const target = qualified(table.schema, name);
  const staging = quoteIdent(STAGING_TABLE);
  const columns = Object.keys(table.columns);
  const date = timestampLiteral(partition.date);
  const guarded = guardAllows();
  const files = quoteIdent(FILES_TABLE);
  // A short file list goes into the batch itself; a long one is COPYed from the JSON lines Prepare writes.
  const fileListInsert = renderFileListInsert(FILES_TABLE, partition.files);

  const ledger = ledgerTable(audit, table.schema, name);
  const aggregates = args.aggregates
    ? renderLoadAggregates({
        config,
        aggregates: args.aggregates.names,
        existing: args.aggregates.existing,
        ...(args.aggregates.existingGroups ? { existingGroups: args.aggregates.existingGroups } : {}),
        loadId: args.loadId,
        // Rows only inserted: a coarse distinct count adds its new members (exact); otherwise its buckets are recounted.
        append: args.mode === 'append' && !args.reload && !args.force,
        staged: quoteIdent(STAGING_TABLE),
      })
    : undefined;
  // Everything the batch writes, in one LOCK, in one order (sorted names) for every batch: no deadlock between batches.
  const locks = aggregates ? [target, ledger, ...aggregates.locks].sort() : [target, ledger];
  const sqls: string[] = [
    `LOCK ${locks.join(', ')}`,
    ...args.addColumns,
    ...(aggregates?.alters ?? []),
    `CREATE TEMP TABLE ${files} (file_key VARCHAR(1024), bytes BIGINT, etag VARCHAR(128))`,
    ...(partition.files.length ? [fileListInsert ?? renderFileListCopy(FILES_TABLE, args.fileListUrl, config.warehouse.copyRoleArn)] : []),
    renderGuard({ auditSchema: audit, table: name, schema: table.schema, partitionDate: partition.date, mode: args.mode, force: args.force, loadId: args.loadId, reload: args.reload }),
    // The config's columns only, not `LIKE` the target: a columnar (Parquet) COPY needs the table's column
    // count to equal the file's, and the target also has `_forklift_partition` (and maybe columns outside the config).
    `CREATE TEMP TABLE ${staging} (${rawTableColumns(table)
      .filter((c) => c.name !== PARTITION_COLUMN)
      .map((c) => renderColumnDefinition({ ...c, encoding: undefined }))
      .join(', ')})`,
    renderCopy({ staging: STAGING_TABLE, columns, manifestUrl: args.manifestUrl, roleArn: config.warehouse.copyRoleArn, table }),
  ];
  // A snapshot smaller than the table's minimum never replaces the table (an empty export is the usual cause).
  if (args.mode === 'truncate' && !args.force && table.minSnapshotRows > 0) {
    sqls.push(renderSnapshotCheck({ table: name, partitionDate: partition.date, staging: STAGING_TABLE, minRows: table.minSnapshotRows }));
  }

  const dml = renderModeDml({ ...args, cfg: table, name, target, staging, columns, date, guarded });
  const hoursArgs = { config, table: name, loadId: args.loadId, sources: [{ from: `${staging} s`, alias: 's' }, ...dml.deleted] };
  if (aggregates) {
    sqls.push(...renderLoadHours(hoursArgs));
  } else {
    const hours = renderAffectedHours(hoursArgs);
    if (hours) sqls.push(hours);
  }
  sqls.push(...dml.before);
  sqls.push(dml.insert);
  const insertStatement = sqls.length;
  const steps: StepRef[] = [{ kind: 'raw', name, statement: insertStatement }];
  if (aggregates) {
    const base = sqls.length;
    sqls.push(...aggregates.sqls);
    for (const f of aggregates.factInserts) steps.push({ kind: 'fact', name: f.aggregate, statement: base + f.index + 1, batch: 'load' });
  }

  const keyLiterals = { id: literal(args.loadId), table: literal(auditIdentity(config, name)) };
  // The outcome, from this load's temp tables only: the loads row and the final SELECT share it.
  // A resubmitted batch whose first submission committed ('done') reports that load: loaded.
  const outcome = {
    status: `CAST(CASE WHEN g.decision IN ('load', 'done') THEN 'loaded' ELSE 'skipped' END AS VARCHAR(16))`,
    reason: `CAST(CASE WHEN g.decision = 'load' THEN ${textFitting(args.reason, 1024)} ELSE g.reason END AS VARCHAR(1024))`,
    rows: `CASE WHEN g.decision = 'load' THEN (SELECT COUNT(*) FROM ${staging}) ELSE 0 END`,
  };
  sqls.push(
    `INSERT INTO ${auditTable(audit, 'loads')} (load_id, table_name, partition_date, partition_key, mode, status, reason, files, rows_loaded, started_at, finished_at, planned_at) ` +
      `SELECT ${keyLiterals.id}, ${keyLiterals.table}, ${date}, ${literal(partition.key)}, ${literal(args.mode)}, ` +
      `${outcome.status}, ${outcome.reason}, ${integerLiteral(partition.files.length)}, ${outcome.rows}, ` +
      `${timestampLiteral(args.startedAt)}, GETDATE(), ${timestampLiteral(args.plannedAt)} FROM ${quoteIdent(GUARD_TABLE)} g WHERE g.decision <> 'done'`,
  );
  if (partition.files.length) {
    sqls.push(
      `INSERT INTO ${auditTable(audit, 'load_files')} (load_id, table_name, partition_date, file_key, bytes, etag) ` +
        `SELECT ${keyLiterals.id}, ${keyLiterals.table}, ${date}, f.file_key, f.bytes, f.etag FROM ${files} f WHERE ${guarded}`,
    );
  }
  if (args.reload || args.force) {
    // The table's ledger is what the table holds: the partition's earlier rows go with the rows this load replaces.
    sqls.push(`DELETE FROM ${ledger} WHERE partition_date = ${date} AND ${guarded}`);
  }
  sqls.push(
    `INSERT INTO ${ledger} (load_id, partition_date, file_key, bytes, etag) ` +
      `SELECT ${keyLiterals.id}, ${date}, f.file_key, f.bytes, f.etag FROM ${files} f WHERE ${guarded} ` +
      `UNION ALL SELECT ${keyLiterals.id}, ${date}, CAST(NULL AS VARCHAR(1024)), CAST(NULL AS BIGINT), CAST(NULL AS VARCHAR(128)) FROM ${quoteIdent(GUARD_TABLE)} g WHERE g.decision = 'load'`,
  );
  sqls.push(...renderGrants(table.schema, name, args.grantGroups ?? table.readOnlyGroups));
  sqls.push(`SELECT ${outcome.status} AS status, ${outcome.reason} AS reason, ${outcome.rows} AS rows_loaded FROM ${quoteIdent(GUARD_TABLE)} g`);
  assertFitsBatch(sqls, `the load batch of table '${name}'${args.addColumns.length ? ` (adding ${args.addColumns.length} columns)` : ''}`);
  return { sqls, readsFileList: partition.files.length > 0 && fileListInsert === undefined, outcomeStatement: sqls.length, steps };
}

interface ModeArgs extends LoadBatchArgs {
  cfg: TableConfig;
  name: string;
  target: string;
  staging: string;
  columns: string[];
  date: string;
  guarded: string;
}

/** The mode's guarded statements: DELETEs before the INSERT, the INSERT, and the rows the DELETEs remove (for affected hours). */
function renderModeDml(a: ModeArgs): { before: string[]; insert: string; deleted: RowSource[] } {
  const cols = a.columns.map(quoteIdent);
  const into = `INSERT INTO ${a.target} (${[...cols, quoteIdent(PARTITION_COLUMN)].join(', ')}) `;
  const plainInsert = `${into}SELECT ${cols.map((c) => `s.${c}`).join(', ')}, ${a.date} FROM ${a.staging} s WHERE ${a.guarded}`;
  const deleteWhere = (where: string | undefined): string => `DELETE FROM ${a.target} WHERE ${where ? `${where} AND ` : ''}${a.guarded}`;
  switch (a.mode) {
    case 'append': {
      // A forced run deletes the partition's previous rows even when decide saw none: a reload never duplicates.
      if (!a.reload && !a.force) return { before: [], insert: plainInsert, deleted: [] };
      const where = `${quoteIdent(PARTITION_COLUMN)} = ${a.date}`;
      return { before: [deleteWhere(where)], insert: plainInsert, deleted: [{ from: `${a.target} t`, alias: 't', where: `t.${where}` }] };
    }
    case 'replace': {
      // The partition's period AND the rows this partition loaded before (late rows outside the
      // period): a top-up or a forced reload replaces them, never doubles them.
      const dd = quoteIdent(a.cfg.dataDateColumn);
      const pc = quoteIdent(PARTITION_COLUMN);
      const period = (p: string) =>
        `((${p}${dd} >= ${a.date} AND ${p}${dd} < ${timestampLiteral(a.partition.end)}) OR ${p}${pc} = ${a.date})`;
      return { before: [deleteWhere(period(''))], insert: plainInsert, deleted: [{ from: `${a.target} t`, alias: 't', where: period('t.') }] };
    }
    case 'truncate':
      return { before: [deleteWhere(undefined)], insert: plainInsert, deleted: [{ from: `${a.target} t`, alias: 't' }] };
    case 'merge': {
      const key = a.cfg.primaryKey ?? [];
      if (key.length === 0) throw new ForkliftError(`table '${a.name}': merge mode needs a primaryKey`);
      const keyCols = key.map(quoteIdent);
      const self = quoteIdent(a.name);
      const match = (left: string) => keyCols.map((k) => `${left}.${k} = s.${k}`).join(' AND ');
      const flag = a.cfg.deleteFlagColumn ? ` AND NOT COALESCE(s.${quoteIdent(a.cfg.deleteFlagColumn)}, FALSE)` : '';
      const dd = quoteIdent(a.cfg.dataDateColumn);
      // Newest wins, per key, by the data-date column: an incoming row replaces (or, flagged, deletes) a
      // stored row only when it is at least as new (a stored NULL date is the oldest; an incoming NULL
      // never wins over a dated row). An older update changes nothing; its new keys are inserted.
      const wins = (stored: string) => `(${stored}.${dd} IS NULL OR s.${dd} >= ${stored}.${dd})`;
      // Duplicate keys in one partition: the row with the latest data date wins (ties: any one of them).
      const latest =
        `SELECT s.*, ROW_NUMBER() OVER (PARTITION BY ${keyCols.map((k) => `s.${k}`).join(', ')} ` +
        `ORDER BY s.${dd} DESC NULLS LAST) AS forklift_rn FROM ${a.staging} s`;
      const kept = `NOT EXISTS (SELECT 1 FROM ${a.target} t WHERE ${match('t')})`;
      return {
        before: [`DELETE FROM ${a.target} USING ${a.staging} s WHERE ${match(self)} AND ${wins(self)} AND ${a.guarded}`],
        insert: `${into}SELECT ${cols.map((c) => `s.${c}`).join(', ')}, ${a.date} FROM (${latest}) s WHERE s.forklift_rn = 1${flag} AND ${kept} AND ${a.guarded}`,
        deleted: [{ from: `${a.target} t JOIN ${a.staging} s ON ${match('t')}`, alias: 't', where: wins('t') }],
      };
    }
  }
}
