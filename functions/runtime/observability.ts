/**
 * Logs and metrics for the functions: Powertools Logger and Metrics (EMF) on
 * Lambda, behind two small ports so tests and local runs can record instead.
 */
import { Logger } from '@aws-lambda-powertools/logger';
import { Metrics, MetricUnit } from '@aws-lambda-powertools/metrics';
import { METRIC_NAMESPACE, SERVICE_NAME, TABLE_DIMENSION, type MetricName } from '../core/metricNames';

/** Structured logging, as the handlers use it (a Powertools Logger satisfies it). */
export interface Log {
  debug(message: string, attributes?: Record<string, unknown>): void;
  info(message: string, attributes?: Record<string, unknown>): void;
  warn(message: string, attributes?: Record<string, unknown>): void;
  error(message: string, attributes?: Record<string, unknown>): void;
}

/** Units the pipeline's metrics use. */
export type Unit = 'Count' | 'Seconds' | 'None';

/** Metric emission: `add` buffers, `flush` publishes (once per invocation). */
export interface MetricsSink {
  add(name: MetricName, unit: Unit, value: number, table?: string): void;
  flush(): void;
}

/** Everything a handler needs to be observable. */
export interface Observability {
  log: Log;
  metrics: MetricsSink;
}

/**
 * Powertools Metrics as a MetricsSink. Per-table metrics go out as single metrics with the
 * Table dimension, so each table gets its own series; the rest are buffered and flushed together.
 */
export function powertoolsMetrics(metrics: Metrics): MetricsSink {
  return {
    add(name, unit, value, table) {
      const u = unit === 'Count' ? MetricUnit.Count : unit === 'Seconds' ? MetricUnit.Seconds : MetricUnit.NoUnit;
      if (table === undefined) {
        metrics.addMetric(name, u, value);
        return;
      }
      const single = metrics.singleMetric();
      single.addDimension(TABLE_DIMENSION, table);
      single.addMetric(name, u, value);
    },
    flush() {
      if (metrics.hasStoredMetrics()) metrics.publishStoredMetrics();
    },
  };
}

/** Logger and metrics for a deployed function (service and namespace from metricNames.ts). */
export function createObservability(): Observability {
  const logger = new Logger({ serviceName: SERVICE_NAME });
  const metrics = new Metrics({ namespace: METRIC_NAMESPACE, serviceName: SERVICE_NAME });
  return { log: powertoolsLog(logger), metrics: powertoolsMetrics(metrics) };
}

/** A Powertools Logger as a Log. */
export function powertoolsLog(logger: Logger): Log {
  const at =
    (level: 'debug' | 'info' | 'warn' | 'error') =>
    (message: string, attributes?: Record<string, unknown>): void => {
      if (attributes === undefined) logger[level](message);
      else logger[level](message, attributes);
    };
  return { debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}

/** A recorded metric (tests, local runs). */
export interface RecordedMetric {
  name: MetricName;
  unit: Unit;
  value: number;
  table?: string;
}

/** A MetricsSink that keeps what it is given, for tests and the local stack. */
export function recordingMetrics(): MetricsSink & { recorded: RecordedMetric[] } {
  const recorded: RecordedMetric[] = [];
  return {
    recorded,
    add(name, unit, value, table) {
      recorded.push(table === undefined ? { name, unit, value } : { name, unit, value, table });
    },
    flush() {},
  };
}

/** A recorded log line. */
export interface RecordedLog {
  level: 'debug' | 'info' | 'warn' | 'error';
  message: string;
  attributes?: Record<string, unknown>;
}

/** A Log that keeps what it is given. */
export function recordingLog(): Log & { lines: RecordedLog[] } {
  const lines: RecordedLog[] = [];
  const at =
    (level: RecordedLog['level']) =>
    (message: string, attributes?: Record<string, unknown>): void => {
      lines.push(attributes === undefined ? { level, message } : { level, message, attributes });
    };
  return { lines, debug: at('debug'), info: at('info'), warn: at('warn'), error: at('error') };
}
