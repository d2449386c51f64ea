import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loadConfigFile, parseConfig, parseConfigText } from '../../../../functions/core/config/load';
import { ConfigError, type ConfigIssue } from '../../../../functions/core/errors';

const FIXTURES = 'test/fixtures/configs';

function issuesOf(load: () => unknown): ConfigIssue[] {
  try {
    load();
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return (err as ConfigError).issues;
  }
  throw new Error('expected a ConfigError');
}

describe('the example forklift.config.yaml', () => {
  const config = loadConfigFile('forklift.config.yaml');

  it('parses, with defaults applied', () => {
    expect(Object.keys(config.tables)).toEqual(['visits', 'campaigns']);
    expect(config.tables.visits!.partition).toBe("{date:yyyy-MM-dd'T'HH}/");
    expect(config.tables.visits!.columns.visit_id).toEqual({ type: { base: 'VARCHAR', length: 36 }, nullable: false });
    expect(config.tables.visits!.columns.duration_ms).toEqual({ type: { base: 'INTEGER' }, nullable: true });
    expect(config.tables.campaigns!.mode).toBe('truncate');
    expect(config.tables.campaigns!.olderPartitions).toBe('skip');
    expect(config.tables.campaigns!.completeness).toEqual({ quietSeconds: 0 });
    expect(config.tables.campaigns!.compression).toBe('none');
    expect(config.landing.manifestPrefix).toBe('_forklift/manifests/');
    expect(config.warehouse.auditSchema).toBe('forklift');
    expect(config.alarms).toEqual({ emails: [], missingDataHours: 24 });
    expect(Object.keys(config.aggregates)).toEqual(['visits_hourly', 'visitors_daily']);
  });
});

describe('bad config fixtures: every problem, by path', () => {
  it.each<[string, ConfigIssue[]]>([
    ['unknown-type.yaml', [{ path: 'tables.visits.columns.ip.type', message: "unknown type 'strng'" }]],
    ['unknown-field.yaml', [{ path: 'tables.visits', message: "unknown field 'colour'" }]],
    ['reserved-word.yaml', [{ path: 'tables.visits.columns.user', message: "'user' is a Redshift reserved word" }]],
    ['merge-without-key.yaml', [{ path: 'tables.visits.primaryKey', message: 'merge mode needs a primaryKey' }]],
    ['aggregate-unknown-source.yaml', [{ path: 'aggregates.visits_hourly.source', message: "unknown table or aggregate 'vists'" }]],
    [
      'measure-unknown-column.yaml',
      [{ path: 'aggregates.visits_hourly.measures.total_duration.column', message: "unknown column 'duration' in 'visits'" }],
    ],
    [
      'count-distinct-from-aggregate.yaml',
      [
        {
          path: 'aggregates.visits_daily.measures.visitors.fn',
          message: "distinct counts are not additive: compute 'visitors' from the raw table, not from the aggregate 'visits_hourly'",
        },
      ],
    ],
    [
      'overlapping-prefixes.yaml',
      [
        {
          path: 'tables.visits_eu.prefix',
          message: "'events/visits/' overlaps the prefix 'events/visits/' of table 'visits', and both partition patterns match keys such as 'events/visits/2026-11-20T13/part-0000.json.gz'",
        },
      ],
    ],
    [
      'bad-partition-pattern.yaml',
      [
        {
          path: 'tables.visits.partition',
          message:
            "partition pattern '{date:yyyy-MM-DD}/': unknown date format 'DD' in {date:yyyy-MM-DD} (use yyyy, MM, dd, HH, mm, ss, quoted 'literals', rfc3339 or epoch)",
        },
      ],
    ],
    [
      'dbuser-and-workgroup.yaml',
      [
        {
          path: 'warehouse',
          message: 'give exactly one of: clusterIdentifier + dbUser, clusterIdentifier + secretArn, or workgroupName (optionally with secretArn)',
        },
      ],
    ],
    [
      'many-schema-problems.yaml',
      [
        {
          path: 'warehouse.database',
          message: "'Dev' must start with a lowercase letter or underscore and contain only lowercase letters, digits, _ and $",
        },
        { path: 'tables.visits.columns.ip.type', message: "unknown type 'strng'" },
        { path: 'tables.visits.columns.select', message: "'select' is a Redshift reserved word" },
        { path: 'tables.visits.mode', message: 'Invalid option: expected one of "append"|"replace"|"truncate"|"merge"' },
      ],
    ],
    [
      'many-cross-problems.yaml',
      [
        { path: 'tables.visits.dataDateColumn', message: "unknown column 'visit_day'" },
        { path: 'tables.visits.primaryKey', message: 'merge mode needs a primaryKey' },
        { path: 'tables.visits.partition', message: "partition pattern '{date:HH}/': has a hour but no year (every coarser field is needed)" },
        { path: 'tables.visits_eu.prefix', message: "'events/visits/eu/' overlaps the prefix 'events/visits/' of table 'visits'" },
        { path: 'aggregates.visits_hourly.measures.total.column', message: "unknown column 'duration' in 'visits'" },
        { path: 'aggregates.ghosts.source', message: "unknown table or aggregate 'ghost'" },
      ],
    ],
  ])('%s', (file, expected) => {
    const path = `${FIXTURES}/${file}`;
    expect(issuesOf(() => loadConfigFile(path))).toEqual(expected);
  });

  it('reaches the cross-checks after a type error (README\'s two-problem example)', () => {
    expect(issuesOf(() => loadConfigFile(`${FIXTURES}/type-and-cross-problems.yaml`))).toEqual([
      { path: 'tables.visits.columns.ip.type', message: "unknown type 'strng'" },
      {
        path: 'aggregates.visits_daily.measures.visitors.fn',
        message: "distinct counts are not additive: compute 'visitors' from the raw table, not from the aggregate 'visits_hourly'",
      },
    ]);
  });

  it('does not repeat, as a cross-check, what follows from a value it already refused', () => {
    const issues = issuesOf(() =>
      parseConfigText(
        readFileSync('forklift.config.yaml', 'utf8')
          .replace('dataDateColumn: visited_at', 'dataDateColumn: select')
          .replace('bucketName: forklift-landing-example', 'bucketName: Bad_Bucket'),
      ),
    );
    expect(issues).toEqual([
      { path: 'landing.bucketName', message: 'must be a valid S3 bucket name' },
      { path: 'tables.visits.dataDateColumn', message: "'select' is a Redshift reserved word" },
    ]);
  });

  it.each([
    ['format: { type: json }', 'format: json', 'tables.visits.format', "must be an object, not the string 'json': write format: { type: json }"],
    ['compression: gzip', 'compression: [gzip]', 'tables.visits.compression', 'Invalid option: expected one of "gzip"|"bzip2"|"zstd"|"none"'],
    ['freshnessSlaMinutes: 120', 'freshnessSlaMinutes: two hours', 'tables.visits.freshnessSlaMinutes', "must be a number, not the string 'two hours'"],
    ['sortKey: [visited_at]', 'sortKey: visited_at', 'tables.visits.sortKey', "must be a list, not the string 'visited_at'"],
  ])('says a value has the wrong type (%s → %s), not that it is missing', (from, to, path, message) => {
    const text = readFileSync('forklift.config.yaml', 'utf8').replace(from, to);
    expect(issuesOf(() => parseConfigText(text))).toEqual([{ path, message }]);
  });

  it.each([
    ['"\\t"', undefined],
    ['";"', undefined],
    ["'\\t'", 'must be one printable ASCII character, or a tab ("\\t")'],
    ['"\\n"', 'must be one printable ASCII character, or a tab ("\\t")'],
    ['\'"\'', 'cannot be a quote or a backslash'],
    ['"ab"', 'must be one printable ASCII character, or a tab ("\\t")'],
  ])('csv delimiter %s', (yamlValue, problem) => {
    const text = readFileSync('forklift.config.yaml', 'utf8').replace('format: { type: csv, header: true }', `format: { type: csv, header: true, delimiter: ${yamlValue} }`);
    if (problem === undefined) expect(parseConfigText(text).tables.campaigns!.format).toMatchObject({ delimiter: JSON.parse(yamlValue.replace(/^'(.*)'$/, '"$1"')) });
    else expect(issuesOf(() => parseConfigText(text))).toEqual([{ path: 'tables.campaigns.format.delimiter', message: problem }]);
  });

  it('names the source file and every problem in the message', () => {
    const path = `${FIXTURES}/many-cross-problems.yaml`;
    expect(() => loadConfigFile(path)).toThrow(
      `invalid Forklift config (${path}):\n  tables.visits.dataDateColumn: unknown column 'visit_day'\n  tables.visits.primaryKey: merge mode needs a primaryKey\n`,
    );
  });
});

describe('parseConfigText and loadConfigFile edges', () => {
  it('reports YAML syntax errors with a line number', () => {
    const issues = issuesOf(() => parseConfigText('warehouse:\n  database: dev\n bad: [\n'));
    expect(issues.length).toBeGreaterThan(0);
    expect(issues[0]!.path).toMatch(/^line \d+$/);
  });

  it('reports a missing file', () => {
    const issues = issuesOf(() => loadConfigFile('test/fixtures/configs/does-not-exist.yaml'));
    expect(issues).toHaveLength(1);
    expect(issues[0]!.path).toBe('');
    expect(issues[0]!.message).toMatch(/^cannot read config file: ENOENT/);
  });

  it('reports missing required sections', () => {
    expect(issuesOf(() => parseConfig({}))).toEqual([
      { path: 'warehouse', message: 'is required' },
      { path: 'landing', message: 'is required' },
      { path: 'tables', message: 'is required' },
    ]);
  });

  it('reads a config written to disk', () => {
    const dir = mkdtempSync(join(tmpdir(), 'forklift-config-'));
    const file = join(dir, 'c.yaml');
    writeFileSync(
      file,
      [
        'warehouse: { database: dev, workgroupName: forklift-wg, copyRoleArn: "arn:aws:iam::123456789012:role/r" }',
        'landing: { bucketName: my-bucket }',
        'tables:',
        '  t: { prefix: t/, partition: "{date:yyyyMMdd}/", columns: { at: date }, dataDateColumn: at }',
      ].join('\n'),
    );
    expect(loadConfigFile(file).tables.t!.partition).toBe('{date:yyyyMMdd}/');
  });
});
