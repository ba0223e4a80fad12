import { classifyInfraError, type Actor } from '@app/common';
import {
  Engine,
  type DispatchOptions,
  type EventRequest,
  type FireDueReport,
  type FireResult,
  type StartOptions,
  type StartRequest,
} from './engine.service';
import type { EngineObserver } from './observer';
import type { ProcessView } from './process-view';

/**
 * the refusal's stable code: a DomainError's, or the infrastructure failure's as the API answers it
 * (PROCESS_BUSY, DATABASE_UNAVAILABLE, ...); `error` for anything else (never a driver's raw code)
 */
export function outcomeOf(err: unknown): string {
  const code = (err as { code?: unknown } | null)?.code;
  if (typeof code === 'string' && /^[A-Z][A-Z0-9_]{1,63}$/.test(code)) return code;
  return classifyInfraError(err)?.code ?? 'error';
}

const seconds = (t0: number): number => (performance.now() - t0) / 1000;

/**
 * The engine with its work timed and counted for an observer (metrics), from outside: start, dispatch,
 * fireTimer and fireDue (the worker's batch firing) are wrapped, the engine itself only reports what it alone knows (timers armed, cancelled, fired
 * and how late) through its `observer` field. Used by the api and the worker (RuntimeModule); tools that
 * construct a plain Engine observe nothing.
 */
export class ObservedEngine extends Engine {
  constructor(observer: EngineObserver, ...args: ConstructorParameters<typeof Engine>) {
    super(...args);
    this.observer = observer;
  }

  override async start(req: StartRequest, actor: Actor, opts?: StartOptions): Promise<ProcessView> {
    const t0 = performance.now();
    try {
      const view = await super.start(req, actor, opts);
      this.observer.transition({
        source: 'start',
        definition: view.definition.key,
        event: 'start',
        outcome: 'accepted',
        seconds: seconds(t0),
      });
      return view;
    } catch (err) {
      this.observer.transition({
        source: 'start',
        definition: req.definition,
        event: 'start',
        outcome: outcomeOf(err),
        seconds: seconds(t0),
      });
      throw err;
    }
  }

  override async dispatch(
    instanceId: string,
    req: EventRequest,
    actor: Actor,
    opts?: DispatchOptions,
  ): Promise<ProcessView> {
    const t0 = performance.now();
    try {
      const view = await super.dispatch(instanceId, req, actor, opts);
      this.observer.transition({
        source: 'event',
        definition: view.definition.key,
        event: req.type,
        outcome: 'accepted',
        seconds: seconds(t0),
      });
      return view;
    } catch (err) {
      // the definition is not known here (the process may not exist): the observer infers it from the event
      this.observer.transition({
        source: 'event',
        definition: null,
        event: typeof req.type === 'string' ? req.type : '',
        outcome: outcomeOf(err),
        seconds: seconds(t0),
      });
      throw err;
    }
  }

  /** the worker's timer job (batch firing): counted by the outcome of the job's own timer */
  override async fireDue(
    timerId: string,
    opts: { maxInstances: number; maxTimersPerInstance?: number },
  ): Promise<FireDueReport> {
    const t0 = performance.now();
    try {
      const r = await super.fireDue(timerId, opts);
      this.observer.timerJob(typeof r.own === 'object' ? 'early' : r.own, seconds(t0));
      return r;
    } catch (err) {
      this.observer.timerJob('error', seconds(t0));
      throw err;
    }
  }

  override async fireTimer(timerId: string): Promise<FireResult> {
    const t0 = performance.now();
    try {
      const r = await super.fireTimer(timerId);
      this.observer.timerJob(typeof r === 'object' ? 'early' : r, seconds(t0));
      return r;
    } catch (err) {
      this.observer.timerJob('error', seconds(t0));
      throw err;
    }
  }
}
