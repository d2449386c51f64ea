/**
 * The soak of bench/scenarios/soak.ts at 2,000 objects over 20 hourly partitions (the bench runs
 * 20,000 over 200: BENCHMARKS.md, soak): objects in random order, 20% of events duplicated, 5% of Data API calls
 * throttled and 5 executions stopped mid-way (local/faults.ts), then healing by the sweep on its
 * schedule only. Same scenario code, same invariants; timings are the bench's, never asserted here.
 */
import { runSoak } from '../../../bench/scenarios/soak';

describe('soak (2,000 objects, 20 partitions)', () => {
  it('with duplicated events, throttled Data API calls and stopped executions: no file unloaded, no row doubled, aggregates equal a recompute, nothing running, no dead letter', async () => {
    const figures = await runSoak({ objects: 2_000, partitions: 20, duplicateFraction: 0.2, throttleFraction: 0.05, stops: 5 });
    // The faults happened.
    expect(figures['duplicate_events']).toBeGreaterThan(0);
    expect(figures['data_api_throttled']).toBeGreaterThan(0);
    expect(figures['executions_stopped']).toBe(5);
    // The invariants.
    expect({
      files_unloaded: figures['files_unloaded'],
      rows_loaded: figures['rows_loaded'],
      rows_doubled: figures['rows_doubled'],
      aggregate_buckets_off: figures['aggregate_buckets_off'],
      executions_running: figures['executions_running'],
      dead_letters: figures['dead_letters'],
    }).toEqual({
      files_unloaded: 0,
      rows_loaded: figures['rows_expected'],
      rows_doubled: 0,
      aggregate_buckets_off: 0,
      executions_running: 0,
      dead_letters: 0,
    });
  }, 900_000);
});
