/**
 * The soak at 2,000 objects (bench/scenarios/soak.ts; `npm run bench -- --only soak` runs 20,000):
 * duplicated events, throttled Data API calls and executions stopped mid-way leave no file
 * unloaded, no row doubled, the aggregate equal to a recompute, nothing running, no dead letter.
 */
import { runSoak } from '../../../bench/scenarios/soak';

describe('soak: 2,000 objects over 20 partitions, 20% duplicate events, 5% throttled Data API calls, 3 executions stopped', () => {
  it('every file loaded once, aggregates equal a recompute, nothing left running, no dead letter', async () => {
    const figures = await runSoak({ objects: 2_000, partitions: 20, duplicateFraction: 0.2, throttleFraction: 0.05, stops: 3 });
    // The faults did happen (else the invariants prove nothing).
    expect(figures['duplicate_events']).toBeGreaterThan(0);
    expect(figures['data_api_throttled']).toBeGreaterThan(0);
    expect(figures['executions_stopped']).toBeGreaterThan(0);
    expect({
      files_unloaded: figures['files_unloaded'],
      rows_loaded: figures['rows_loaded'],
      rows_doubled: figures['rows_doubled'],
      aggregate_buckets_off: figures['aggregate_buckets_off'],
      executions_running: figures['executions_running'],
      dead_letters: figures['dead_letters'],
    }).toEqual({ files_unloaded: 0, rows_loaded: figures['rows_expected'], rows_doubled: 0, aggregate_buckets_off: 0, executions_running: 0, dead_letters: 0 });
  }, 600_000);
});
