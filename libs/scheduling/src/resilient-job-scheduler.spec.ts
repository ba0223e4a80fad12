import { Availability } from '@app/common';
import type { JobSchedulerPort } from './bull-job-scheduler';
import { ResilientJobScheduler } from './resilient-job-scheduler';

/** A scheduler whose calls hang (a frozen Redis) or fail (a stopped one) or succeed, as told. */
function fake(mode: { current: 'ok' | 'hang' | 'fail' }) {
  const calls: string[] = [];
  const act = async (what: string) => {
    calls.push(what);
    if (mode.current === 'hang') await new Promise(() => undefined);
    if (mode.current === 'fail')
      throw new Error("Stream isn't writeable and enableOfflineQueue options is false");
  };
  const port: JobSchedulerPort = {
    enqueueTimers: (t) => act(`timers ${t.map((x) => x.id).join(',')}`),
    removeTimers: (ids) => act(`remove ${ids.join(',')}`),
    enqueueNotifications: (ids) => act(`notify ${ids.join(',')}`),
  };
  return { port, calls };
}

describe('ResilientJobScheduler', () => {
  it('gives a hanging Redis the timeout, then marks it down and skips without waiting', async () => {
    const mode = { current: 'hang' as 'ok' | 'hang' | 'fail' };
    const { port, calls } = fake(mode);
    const redis = new Availability('redis');
    const s = new ResilientJobScheduler(port, redis, 20);
    await s.enqueueTimers([{ id: 'a', dueAt: new Date() }]); // resolves after 20 ms, no throw
    expect(redis.current).toMatchObject({ status: 'down' });
    await s.enqueueNotifications(['n1']);
    expect(calls).toEqual(['timers a']); // the second call was not even attempted
    expect(s.skipped).toBe(2);
  });

  it('a refused connection marks Redis down; removals skipped meanwhile are replayed on recovery', async () => {
    const mode = { current: 'fail' as 'ok' | 'hang' | 'fail' };
    const { port, calls } = fake(mode);
    const redis = new Availability('redis');
    const s = new ResilientJobScheduler(port, redis, 1000);
    await s.removeTimers(['t1']);
    expect(redis.isUp).toBe(false);
    await s.removeTimers(['t2', 't3']);
    mode.current = 'ok';
    redis.markUp();
    expect(await s.flushRemovals()).toBe(3);
    expect(calls).toEqual(['remove t1', 'remove t1,t2,t3']);
    expect(await s.flushRemovals()).toBe(0);
  });

  it('passes calls through while Redis is up', async () => {
    const { port, calls } = fake({ current: 'ok' });
    const s = new ResilientJobScheduler(port, new Availability('redis'), 1000);
    await s.enqueueTimers([{ id: 'a', dueAt: new Date() }]);
    await s.enqueueNotifications([]);
    expect(calls).toEqual(['timers a']);
    expect(s.skipped).toBe(0);
  });
});

describe('ResilientJobScheduler: what was skipped', () => {
  it('remembers the ids it skipped, bounded, for the reconciler to enqueue when Redis returns', async () => {
    const { port } = fake({ current: 'fail' });
    const redis = new Availability('redis');
    const s = new ResilientJobScheduler(port, redis, 1000, undefined, 3);
    await s.enqueueTimers([
      { id: 't1', dueAt: new Date() },
      { id: 't2', dueAt: new Date() },
    ]);
    await s.enqueueNotifications(['n1']);
    expect(s.takeSkipped()).toEqual({ timers: ['t1', 't2'], notices: ['n1'], overflow: false });
    expect(s.takeSkipped()).toEqual({ timers: [], notices: [], overflow: false });
    await s.enqueueTimers(['a', 'b', 'c', 'd'].map((id) => ({ id, dueAt: new Date() })));
    expect(s.takeSkipped()).toMatchObject({ timers: ['a', 'b', 'c'], overflow: true });
  });
});
