/**
 * Execution history in the shape of GetExecutionHistory, built from aws-local-stepfunctions'
 * event log plus the Task events the resource dispatcher records (the library has none).
 */
import type { HistoryEvent, HistoryEventType } from '@aws-sdk/client-sfn';
import type { ParsedResource } from './tasks';
import { TASK_REGION } from './tasks';

/** The library's event log entries, as far as the history needs them. */
export interface LibraryEvent {
  type: string;
  timestamp: number;
  input?: unknown;
  output?: unknown;
  Error?: string;
  Cause?: unknown;
  index?: number;
  state?: { name: string; type: string; input?: unknown; output?: unknown };
  parentState?: { name: string; type: string };
}

/** One Task invocation, for counting calls (Data API submissions) per execution. */
export interface TaskCall {
  stateName: string;
  resource: string;
  resourceType: string;
  action: string;
  startedAt: Date;
  endedAt?: Date;
  error?: string;
}

/** Counters a test or benchmark reads per execution. */
export interface ExecutionStats {
  /** States entered (what AWS bills as state transitions, approximately). */
  stateTransitions: number;
  /** Task invocations, in order. */
  taskCalls: TaskCall[];
  /** Statements sent to the Data API (ExecuteStatement and BatchExecuteStatement calls). */
  dataApiSubmissions: number;
}

const SUBMITTING_ACTIONS = new Set(['executeStatement', 'batchExecuteStatement']);

const json = (value: unknown): string => JSON.stringify(value ?? null);
const causeText = (cause: unknown): string => (typeof cause === 'string' ? cause : json(cause));

/** Accumulates one execution's history; closed once the execution ends. */
export class ExecutionHistory {
  private readonly events: HistoryEvent[] = [];
  private readonly lastIdByLane = new Map<string, number>();
  private readonly calls: TaskCall[] = [];
  private readonly laneByState = new Map<string, string>();
  private transitions = 0;
  private closed = false;

  constructor(private readonly roleArn: string) {}

  /** The events so far (a copy). */
  list(): HistoryEvent[] {
    return this.events.map((e) => ({ ...e }));
  }

  /** Counters for tests and benchmarks. */
  stats(): ExecutionStats {
    return {
      stateTransitions: this.transitions,
      taskCalls: this.calls.map((c) => ({ ...c })),
      dataApiSubmissions: this.calls.filter((c) => c.resourceType === 'aws-sdk:redshiftdata' && SUBMITTING_ACTIONS.has(c.action)).length,
    };
  }

  /** Stops recording (late events of an aborted execution are dropped, as on AWS). */
  close(): void {
    this.closed = true;
  }

  /** Appends the events for one library event. */
  fromLibrary(event: LibraryEvent): void {
    const at = new Date(event.timestamp);
    const lane = event.index === undefined ? 'root' : `i${event.index}`;
    const stateType = event.state?.type ?? '';
    switch (event.type) {
      case 'ExecutionStarted':
        this.add(lane, at, 'ExecutionStarted', {
          executionStartedEventDetails: { input: json(event.input), inputDetails: { truncated: false }, roleArn: this.roleArn },
        });
        break;
      case 'ExecutionSucceeded':
        this.add(lane, at, 'ExecutionSucceeded', {
          executionSucceededEventDetails: { output: json(event.output), outputDetails: { truncated: false } },
        });
        break;
      case 'ExecutionFailed':
        this.add(lane, at, 'ExecutionFailed', {
          executionFailedEventDetails: { error: event.Error ?? 'States.Runtime', cause: causeText(event.Cause) },
        });
        break;
      case 'ExecutionTimeout':
        this.add(lane, at, 'ExecutionTimedOut', {
          executionTimedOutEventDetails: { error: 'States.Timeout', cause: 'The execution exceeded its TimeoutSeconds' },
        });
        break;
      case 'StateEntered':
        this.transitions += 1;
        // The library gives Task handlers no iteration index: remember the latest lane per state.
        if (event.state) this.laneByState.set(event.state.name, lane);
        this.add(lane, at, `${stateType}StateEntered` as HistoryEventType, {
          stateEnteredEventDetails: { name: event.state?.name, input: json(event.state?.input), inputDetails: { truncated: false } },
        });
        if (stateType === 'Parallel') this.add(lane, at, 'ParallelStateStarted', {});
        break;
      case 'StateExited':
        if (stateType === 'Map') this.add(lane, at, 'MapStateSucceeded', {});
        if (stateType === 'Parallel') this.add(lane, at, 'ParallelStateSucceeded', {});
        if (stateType === 'Fail') break;
        this.add(lane, at, `${stateType}StateExited` as HistoryEventType, {
          stateExitedEventDetails: { name: event.state?.name, output: json(event.state?.output), outputDetails: { truncated: false } },
        });
        break;
      case 'StateFailed':
        if (stateType === 'Map') this.add(lane, at, 'MapStateFailed', {});
        if (stateType === 'Parallel') this.add(lane, at, 'ParallelStateFailed', {});
        if (stateType === 'Task' && event.Error === 'States.Timeout') {
          this.add(lane, at, 'TaskTimedOut', { taskTimedOutEventDetails: { resourceType: 'unknown', resource: 'unknown', error: 'States.Timeout' } });
        }
        break;
      case 'MapIterationStarted':
      case 'MapIterationSucceeded':
      case 'MapIterationFailed': {
        const details = { name: event.parentState?.name, index: event.index };
        const key = event.type === 'MapIterationStarted' ? 'mapIterationStartedEventDetails'
          : event.type === 'MapIterationSucceeded' ? 'mapIterationSucceededEventDetails' : 'mapIterationFailedEventDetails';
        this.add(lane, at, event.type, { [key]: details });
        break;
      }
      default:
        // StateRetried, StateCaught and Parallel branch events have no AWS history event.
        break;
    }
  }

  /** Records a Task being scheduled and started (before the resource is called). */
  taskStarted(stateName: string, parsed: ParsedResource, parameters: unknown): TaskCall {
    const call: TaskCall = { stateName, resource: parsed.resource, resourceType: parsed.resourceType, action: parsed.resource, startedAt: new Date() };
    if (this.closed) return call;
    this.calls.push(call);
    const lane = this.laneByState.get(stateName) ?? 'root';
    if (parsed.kind === 'lambdaArn') {
      this.add(lane, call.startedAt, 'LambdaFunctionScheduled', {
        lambdaFunctionScheduledEventDetails: { resource: parsed.resource, input: json(parameters), inputDetails: { truncated: false } },
      });
      this.add(lane, call.startedAt, 'LambdaFunctionStarted', {});
    } else {
      this.add(lane, call.startedAt, 'TaskScheduled', {
        taskScheduledEventDetails: { resourceType: parsed.resourceType, resource: parsed.resource, region: TASK_REGION, parameters: json(parameters) },
      });
      this.add(lane, call.startedAt, 'TaskStarted', { taskStartedEventDetails: { resourceType: parsed.resourceType, resource: parsed.resource } });
    }
    return call;
  }

  /** Records a Task's result. */
  taskSucceeded(call: TaskCall, parsed: ParsedResource, output: unknown): void {
    call.endedAt = new Date();
    if (this.closed) return;
    const lane = this.laneByState.get(call.stateName) ?? 'root';
    if (parsed.kind === 'lambdaArn') {
      this.add(lane, call.endedAt, 'LambdaFunctionSucceeded', {
        lambdaFunctionSucceededEventDetails: { output: json(output), outputDetails: { truncated: false } },
      });
    } else {
      this.add(lane, call.endedAt, 'TaskSucceeded', {
        taskSucceededEventDetails: { resourceType: parsed.resourceType, resource: parsed.resource, output: json(output), outputDetails: { truncated: false } },
      });
    }
  }

  /** Records a Task's failure. */
  taskFailed(call: TaskCall, parsed: ParsedResource, error: string, cause: string): void {
    call.endedAt = new Date();
    call.error = error;
    if (this.closed) return;
    const lane = this.laneByState.get(call.stateName) ?? 'root';
    if (parsed.kind === 'lambdaArn') {
      this.add(lane, call.endedAt, 'LambdaFunctionFailed', { lambdaFunctionFailedEventDetails: { error, cause } });
    } else {
      this.add(lane, call.endedAt, 'TaskFailed', { taskFailedEventDetails: { resourceType: parsed.resourceType, resource: parsed.resource, error, cause } });
    }
  }

  /** Records StopExecution. */
  aborted(error: string | undefined, cause: string | undefined): void {
    if (this.closed) return;
    const details: { error?: string; cause?: string } = {};
    if (error !== undefined) details.error = error;
    if (cause !== undefined) details.cause = cause;
    this.add('root', new Date(), 'ExecutionAborted', { executionAbortedEventDetails: details });
  }

  private add(lane: string, timestamp: Date, type: HistoryEventType, details: Partial<HistoryEvent>): void {
    if (this.closed) return;
    const id = this.events.length + 1;
    const previousEventId = this.lastIdByLane.get(lane) ?? this.lastIdByLane.get('root') ?? 0;
    this.events.push({ timestamp, type, id, previousEventId, ...details } as HistoryEvent);
    this.lastIdByLane.set(lane, id);
  }
}
