/**
 * What the engine tells an observer (metrics) about its work: a port, so the engine knows nothing of
 * Prometheus and its code changes stay one-liners. Every method must be cheap and must never throw (it
 * runs on the transition path). Labels are the observer's business: it bounds them (an unknown event type
 * sent by a client is not a new series).
 */
export interface EngineObserver {
  /** a start, an event or a timer's event was decided: `outcome` is `accepted` or the refusal's error code */
  transition(t: {
    source: 'start' | 'event' | 'timer';
    definition: string | null;
    event: string;
    outcome: string;
    seconds: number;
  }): void;
  /** one call to fireTimer ended (`fired`, `ignored`, `stale`, `late`, `missing`, `early`, or `error`) */
  timerJob(outcome: string, seconds: number): void;
  /** timers armed by a committed transition (after commit), cancelled by a transition (in its transaction) */
  timersChanged(armed: number, cancelled: number): void;
  /** a timer's row became `fired`: how late by the database's clock */
  timerFired(definition: string, event: string, latenessMs: number): void;
  /** a due timer was cancelled instead of fired (`unwanted`: the state moved on; `late`: past its notAfter) */
  timerCancelled(reason: 'unwanted' | 'late'): void;
}

export const NO_ENGINE_OBSERVER: EngineObserver = {
  transition: () => undefined,
  timerJob: () => undefined,
  timersChanged: () => undefined,
  timerFired: () => undefined,
  timerCancelled: () => undefined,
};
