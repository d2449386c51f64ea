import { readFileSync } from 'node:fs';
import { parse } from 'yaml';
import { aggregateOrder, crossCheck, factColumns, rootTable } from '../../../../functions/core/config/crossChecks';
import { configSchema, type ConfigInput, type ForkliftConfig } from '../../../../functions/core/config/schema';

/** The example config, edited, validated by the schema only (so crossCheck's own output is what is asserted). */
function schemaOnly(edit?: (raw: ConfigInput) => void): ForkliftConfig {
  const raw = parse(readFileSync('forklift.config.yaml', 'utf8'));
  edit?.(raw);
  return configSchema.parse(raw);
}

describe('crossCheck', () => {
  it('finds nothing wrong with the example', () => {
    expect(crossCheck(schemaOnly())).toEqual([]);
  });

  describe('partition patterns', () => {
    it.each([
      ['{date:yyyy-MM-dd', "partition pattern '{date:yyyy-MM-dd': unbalanced '{' or '}'"],
      ['static/', "partition pattern 'static/': has no date token such as {date:yyyy-MM-dd}"],
      ['{date:yyyy}/{date:yyyy}/', "partition pattern '{date:yyyy}/{date:yyyy}/': the year appears more than once; the fields conflict"],
      ['{date:yyyy-dd}/', "partition pattern '{date:yyyy-dd}/': has a day but no month (every coarser field is needed)"],
    ])('reports %p at tables.<name>.partition', (pattern, message) => {
      const config = schemaOnly((raw) => {
        raw.tables.visits!.partition = pattern;
      });
      expect(crossCheck(config)).toEqual([{ path: 'tables.visits.partition', message }]);
    });

    it('refuses a completeness marker on a single-object partition', () => {
      const config = schemaOnly((raw) => {
        raw.tables.campaigns!.completeness = { marker: '_SUCCESS' };
      });
      expect(crossCheck(config)).toEqual([
        {
          path: 'tables.campaigns.partition',
          message: "a single-object partition cannot have a completeness marker: end the pattern with '/' or use quietSeconds",
        },
      ]);
    });

    it('accepts a marker on a folder partition', () => {
      expect(crossCheck(schemaOnly((raw) => (raw.tables.visits!.completeness = { marker: '_SUCCESS' })))).toEqual([]);
    });
  });

  it('reports overlapping prefixes and the manifest prefix', () => {
    const config = schemaOnly((raw) => {
      raw.tables.campaigns!.prefix = 'events/';
      raw.landing.manifestPrefix = 'events/visits/manifests/';
    });
    expect(crossCheck(config)).toEqual([
      { path: 'tables.visits.prefix', message: "overlaps the manifest prefix 'events/visits/manifests/'" },
      { path: 'tables.campaigns.prefix', message: "overlaps the manifest prefix 'events/visits/manifests/'" },
    ]);
  });

  describe('flat layouts', () => {
    const flat = (partitions: Record<string, [string, string]>) =>
      schemaOnly((raw) => {
        const t = raw.tables.campaigns!;
        raw.tables = Object.fromEntries(Object.entries(partitions).map(([name, [prefix, partition]]) => [name, { ...t, prefix, partition }]));
        raw.aggregates = {};
      });

    it('accepts page and page_views in one folder, and the prefixes api_page_ and api_page_views_', () => {
      expect(
        crossCheck(
          flat({
            page: ['flat/', 'page_{date:yyyy-MM-dd}.json.gz'],
            page_views: ['flat/', 'page_views_{date:yyyy-MM-dd}.json.gz'],
            api_page: ['flat/api_page_', '{date:yyyy-MM-dd}.json.gz'],
            api_page_views: ['flat/api_page_views_', '{date:yyyy-MM-dd}.json.gz'],
          }),
        ),
      ).toEqual([]);
    });

    it('refuses overlapping prefixes whose patterns match one key, with an example key', () => {
      expect(crossCheck(flat({ page: ['flat/', 'page_{date:yyyy-MM-dd}.json'], page_all: ['flat/page_', '{date:yyyy-MM-dd}.json'] }))).toEqual([
        { path: 'tables.page_all.prefix', message: "'flat/page_' overlaps the prefix 'flat/' of table 'page', and both partition patterns match keys such as 'flat/page_2026-11-20.json'" },
      ]);
    });
  });

  it('reports table column rules', () => {
    const config = schemaOnly((raw) => {
      raw.tables.visits!.dataDateColumn = 'duration_ms';
      raw.tables.visits!.distStyle = 'even';
      raw.tables.visits!.deleteFlagColumn = 'visit_id';
    });
    expect(crossCheck(config)).toEqual([
      { path: 'tables.visits.dataDateColumn', message: "column 'duration_ms' must be a DATE or TIMESTAMP" },
      { path: 'tables.visits.distStyle', message: "a distKey needs distStyle 'key'" },
      { path: 'tables.visits.deleteFlagColumn', message: 'only merge mode uses a deleteFlagColumn' },
      { path: 'tables.visits.deleteFlagColumn', message: "column 'visit_id' must be BOOLEAN" },
    ]);
  });

  describe('name collisions', () => {
    it.each<[string, (raw: ConfigInput) => void, { path: string; message: string }]>([
      [
        'a measure named bucket',
        (raw) => (raw.aggregates!.visits_hourly!.measures!.bucket = { fn: 'count' }),
        {
          path: 'aggregates.visits_hourly.measures.bucket',
          message: "fact column 'bucket' of 'visits_hourly' would be both the time bucket column 'bucket' and the measure 'bucket': rename one",
        },
      ],
      [
        "an avg next to a measure named like its sum column",
        (raw) => (raw.aggregates!.visits_hourly!.measures!.avg_duration_ms_sum = { fn: 'sum', column: 'duration_ms' }),
        {
          path: 'aggregates.visits_hourly.measures.avg_duration_ms_sum',
          message:
            "fact column 'avg_duration_ms_sum' of 'visits_hourly' would be both the sum column of the avg measure 'avg_duration_ms' and the measure 'avg_duration_ms_sum': rename one",
        },
      ],
      [
        'a dimension named like a measure',
        (raw) => (raw.aggregates!.visits_hourly!.measures!.campaign_id = { fn: 'max', column: 'campaign_id' }),
        {
          path: 'aggregates.visits_hourly.measures.campaign_id',
          message: "fact column 'campaign_id' of 'visits_hourly' would be both the dimension 'campaign_id' and the measure 'campaign_id': rename one",
        },
      ],
      [
        'a column named _forklift_partition',
        (raw) => (raw.tables.visits!.columns._forklift_partition = 'timestamp'),
        { path: 'tables.visits.columns._forklift_partition', message: "column names starting with '_forklift_' are Forklift's own (_forklift_partition)" },
      ],
      [
        'a table named loads in the audit schema',
        (raw) => (raw.tables.campaigns!.schema = 'forklift', raw.tables.loads = raw.tables.campaigns!, delete raw.tables.campaigns),
        {
          path: 'tables.loads',
          message: "'forklift.loads' is one of Forklift's audit tables (loads, load_files, affected_hours, ledger__* in warehouse.auditSchema 'forklift'): rename it or use another schema",
        },
      ],
      [
        'an aggregate named affected_hours in a custom audit schema',
        (raw) => ((raw.warehouse.auditSchema = 'facts'), (raw.aggregates!.affected_hours = raw.aggregates!.visitors_daily!), delete raw.aggregates!.visitors_daily),
        {
          path: 'aggregates.affected_hours',
          message: "'facts.affected_hours' is one of Forklift's audit tables (loads, load_files, affected_hours, ledger__* in warehouse.auditSchema 'facts'): rename it or use another schema",
        },
      ],
    ])('refuses %s', (_title, edit, issue) => {
      expect(crossCheck(schemaOnly(edit))).toEqual([issue]);
    });

    it('accepts an audit table name in another schema', () => {
      expect(crossCheck(schemaOnly((raw) => ((raw.tables.loads = raw.tables.campaigns!), delete raw.tables.campaigns)))).toEqual([]);
    });
  });

  it('refuses an enabled aggregate computed from a disabled one', () => {
    const config = schemaOnly((raw) => {
      raw.aggregates!.visits_hourly!.enabled = false;
      raw.aggregates!.visits_daily = { source: 'visits_hourly', timeColumn: 'bucket', grain: 'day', measures: { visits: { fn: 'sum', column: 'visits' } } };
    });
    expect(crossCheck(config)).toEqual([
      { path: 'aggregates.visits_daily.enabled', message: "its source aggregate 'visits_hourly' is disabled: disable 'visits_daily' too, or enable 'visits_hourly'" },
    ]);
  });

  it('refuses a nullable primary key on a merge table', () => {
    const config = schemaOnly((raw) => {
      raw.tables.campaigns!.mode = 'merge';
      raw.tables.campaigns!.primaryKey = ['campaign_id', 'name'];
    });
    expect(crossCheck(config)).toEqual([
      { path: 'tables.campaigns.primaryKey.1', message: "merge matches rows by key, and a NULL key never matches: declare column 'name' with nullable: false" },
    ]);
  });

  it('reports measures on non-numeric columns and missing columns', () => {
    const config = schemaOnly((raw) => {
      raw.aggregates!.visits_hourly!.measures!.revenue = { fn: 'sum', column: 'visitor_id' };
      raw.aggregates!.visits_hourly!.measures!.biggest = { fn: 'max' };
    });
    expect(crossCheck(config)).toEqual([
      { path: 'aggregates.visits_hourly.measures.revenue.column', message: "sum needs a numeric column, 'visitor_id' is VARCHAR" },
      { path: 'aggregates.visits_hourly.measures.biggest.column', message: 'max needs a column' },
    ]);
  });
});

describe('aggregate helpers', () => {
  const config = schemaOnly((raw) => {
    raw.aggregates = {
      daily: { source: 'hourly', timeColumn: 'bucket', grain: 'day', dimensions: ['campaign_id'], measures: { visits: { fn: 'sum', column: 'visits' } } },
      hourly: {
        source: 'visits',
        timeColumn: 'visited_at',
        grain: 'hour',
        dimensions: ['campaign_id'],
        measures: { visits: { fn: 'count' }, revenue: { fn: 'sum', column: 'revenue' }, d: { fn: 'avg', column: 'duration_ms' } },
      },
    };
  });

  it('orders aggregates after their sources and finds the root table', () => {
    expect(aggregateOrder(config)).toEqual(['hourly', 'daily']);
    expect(rootTable(config, 'daily')).toBe('visits');
    expect(rootTable(config, 'missing')).toBeUndefined();
    expect(crossCheck(config)).toEqual([]);
  });

  it('derives fact columns, storing avg with its sum and count', () => {
    const source = new Map(Object.entries(config.tables.visits!.columns).map(([n, c]) => [n, c.type]));
    expect([...factColumns(config.aggregates.hourly!, source)]).toEqual([
      ['bucket', { base: 'TIMESTAMP' }],
      ['campaign_id', { base: 'INTEGER' }],
      ['visits', { base: 'BIGINT' }],
      ['revenue', { base: 'DECIMAL', precision: 38, scale: 2 }],
      ['d', { base: 'DOUBLE PRECISION' }],
      ['d_sum', { base: 'DOUBLE PRECISION' }],
      ['d_count', { base: 'BIGINT' }],
    ]);
  });
});
