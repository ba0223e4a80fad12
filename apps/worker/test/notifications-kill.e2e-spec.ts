import type { Actor } from '@app/common';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, unione } from '../../../test/support/scenario';
import { startSmtpPeer, type SmtpPeer } from '../../../test/support/smtp-peer';
import {
  killAllWorkerProcesses,
  spawnWorkerProcess,
  startWorkerProcess,
} from '../../../test/support/worker-process';

/**
 * A real worker process is killed with SIGKILL while its SMTP transactions are in flight (the SMTP peer holds
 * RCPT TO). Another worker takes the delivery job over (BullMQ stalled check) and the rows over (their lease
 * ended): every notice arrives exactly once, with the Message-ID it had from the start.
 */
describe('a worker killed in the middle of a PEC delivery', () => {
  let h: Harness;
  let peer: SmtpPeer;
  const v = unione('valdera');
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
    peer = await startSmtpPeer();
  });
  afterAll(async () => {
    await killAllWorkerProcesses();
    await peer?.stop();
    await h?.close();
  });

  it('the notice arrives once', async () => {
    const env = {
      PEC_SMTP_URL: `smtp://127.0.0.1:${peer.port}`,
      PEC_FROM: 'protocollo@pec.unione.valdera.invalid',
      NOTIFY_LEASE_MS: '1500',
      NOTIFY_BACKOFF_MS: '100',
      WORKER_LOCK_MS: '2000',
      WORKER_STALLED_CHECK_MS: '1000',
    };
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const started = await h.engine.start(
      {
        definition: 'convenzione',
        input: { title: 'Kill', unione: v.ipa, members: v.comuni.slice(0, 2) },
      },
      presidente,
    );
    await h.engine.dispatch(
      started.id,
      { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
      presidente,
    );
    peer.hold(); // every SMTP transaction stops at RCPT TO: the messages are in flight, none accepted
    const w1 = spawnWorkerProcess({
      name: 'iter-notify-w1',
      databaseUrl: h.config.databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: h.clock.offset,
      env,
    });
    await w1.started;
    h.clock.set(new Date('2026-02-05T12:00:00Z'));
    await h.engine.dispatch(
      started.id,
      { type: 'convention.send', payload: { deliveredAt: '2026-02-05T10:00:00+01:00' } },
      presidente,
    );
    const rows = () =>
      h.ds.query<{ id: string; status: string; attempts: number; message_id: string }[]>(
        `SELECT id, status, attempts, message_id FROM outbox WHERE instance_id = $1 AND channel = 'pec'`,
        [started.id],
      );
    await eventually(async () => peer.holding() === 3, 30_000);
    expect((await rows()).every((r) => r.status === 'sending')).toBe(true);
    await w1.kill();
    peer.release(); // the dead worker's transactions: their connections are gone, nothing is accepted
    const mine = () => peer.received.filter((m) => m.header('x-iter-process') === started.id);
    expect(mine()).toHaveLength(0);

    const w2 = await startWorkerProcess({
      name: 'iter-notify-w2',
      databaseUrl: h.config.databaseUrl,
      redisPrefix: h.config.redisPrefix,
      clockOffsetMs: h.clock.offset,
      env,
    });
    const done = await eventually(async () => {
      const r = await rows();
      return r.every((x) => x.status === 'delivered') && r;
    }, 60_000);
    await w2.stop();
    expect(mine()).toHaveLength(3);
    // the same Message-ID as the interrupted attempt: the row's own id
    expect(
      mine()
        .map((m) => m.messageId)
        .sort(),
    ).toEqual(done.map((r) => r.message_id).sort());
    expect(done.every((r) => r.message_id === `<${r.id}@iter.local>`)).toBe(true);
    expect(done.every((r) => r.attempts === 2)).toBe(true);
  }, 120_000);
});
