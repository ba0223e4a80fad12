import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import { loadNotificationConfig } from '@app/notifications';
import { createRootLogger, usePinoLogger } from '@app/runtime';
import { WorkerModule } from '../src/worker.module';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { Scenario, unione } from '../../../test/support/scenario';
import { startSmtpPeer, type SmtpPeer } from '../../../test/support/smtp-peer';

interface Line {
  level: number;
  msg?: string;
  requestId?: string;
  queue?: string;
  jobId?: string;
  req?: { method: string; url: string };
  res?: { statusCode: number };
}

/**
 * Issue 16, logs: the real API and the real worker write JSON lines (as in production) into one captured stream
 * while a convention goes to the councils by PEC and e-mail. Every request has an id (the client's X-Request-Id
 * when acceptable), returned in the response, found on the request's log line, on the worker's line of the job
 * the request caused and on the audit event; and no line contains a codice fiscale, an e-mail or a PEC address
 * used in the scenario.
 */
describe('logs: request ids from the API to the worker, no personal data (real api, worker, SMTP)', () => {
  const v = unione('valdera');
  const captured: string[] = [];
  const root = createRootLogger(
    { logLevel: 'debug', logFormat: 'json' },
    { write: (line: string) => captured.push(line) },
  );
  const lines = (): Line[] => captured.map((l) => JSON.parse(l) as Line);
  // a natural person's codice fiscale (the token's subject) and personal addresses sent in URLs
  const CF = 'RSSMRA80A01H501U';
  const PERSONAL = 'mario.rossi@pec.comune.palaia.invalid';
  let h: Harness;
  let peer: SmtpPeer;
  let worker: INestApplicationContext;

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true, logger: root });
    peer = await startSmtpPeer();
    const notifications = loadNotificationConfig({
      PEC_SMTP_URL: `smtp://127.0.0.1:${peer.port}`,
      PEC_FROM: 'protocollo@pec.unione.valdera.invalid',
      SMTP_URL: `smtp://127.0.0.1:${peer.port}`,
      SMTP_FROM: 'iter@unione.valdera.invalid',
      PUBLIC_BASE_URL: 'https://iter.unione.valdera.invalid',
      MESSAGE_ID_DOMAIN: 'iter.valdera.invalid',
    });
    worker = await NestFactory.createApplicationContext(
      WorkerModule.forRoot(h.config, h.clock, { reconcile: false, notifications, logger: root }),
      { bufferLogs: true },
    );
    usePinoLogger(worker);
  });
  afterAll(async () => {
    await worker?.close();
    await h?.close();
    await peer?.stop();
  });

  it('carries the request id into the jobs and the audit, and writes no personal data', async () => {
    const s = new Scenario(h, v.ipa, v.comuni);
    h.clock.set(new Date('2026-02-01T09:00:00Z'));
    const presidente = await h.token({
      roles: ['presidente'],
      ente: v.ipa,
      unione: v.ipa,
      sub: CF,
    });
    const started = await h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${presidente}`)
      .set('X-Request-Id', 'start-7f3a.1')
      .send({
        definition: 'convenzione',
        input: { title: 'Convenzione ICT', unione: v.ipa, members: v.comuni },
      });
    expect(started.status).toBe(201);
    // the client's id, when short and plain, is kept and returned
    expect(started.headers['x-request-id']).toBe('start-7f3a.1');
    s.id = started.body.id;
    // an id that is personal data, or too long, or of other characters, is replaced by one of the API's
    for (const bad of [CF, 'x'.repeat(200), 'a b', PERSONAL]) {
      const r = await h
        .http()
        .get(`/v1/processes/${s.id}`)
        .set('Authorization', `Bearer ${presidente}`)
        .set('X-Request-Id', bad);
      expect(r.status).toBe(200);
      expect(r.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
    }
    await s.freeze();
    const sent = await s.sendToCouncils('2026-02-05T10:00:00+01:00');
    const requestId = sent.headers['x-request-id'] as string;
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    // personal data in URLs (a query the API refuses, an encoded address) reach the request's log line masked
    await h
      .http()
      .get(`/v1/processes?email=${PERSONAL}&cf=${CF}`)
      .set('Authorization', `Bearer ${presidente}`);
    await h
      .http()
      .get(`/v1/processes?email=${encodeURIComponent(PERSONAL)}`)
      .set('Authorization', `Bearer ${presidente}`);

    // the worker delivers the PEC and e-mail notices of the transition
    const entes = [v.ipa, ...v.comuni];
    await eventually(async () => {
      const rows = await h.ds.query<{ status: string }[]>(
        `SELECT status FROM outbox WHERE instance_id = $1 AND channel = 'pec'`,
        [s.id],
      );
      return rows.length === entes.length && rows.every((r) => r.status === 'delivered');
    });
    await eventually(async () =>
      lines().some((l) => l.queue === 'notifications' && l.requestId === requestId),
    );

    // the audit events carry the id of the request that made them (outside the hash)
    const events = await h.ds.query<{ type: string; request_id: string | null }[]>(
      `SELECT type, request_id FROM process_event WHERE instance_id = $1 ORDER BY seq`,
      [s.id],
    );
    expect(events[0]).toEqual({ type: 'process.started', request_id: 'start-7f3a.1' });
    expect(events.find((e) => e.type === 'convention.send')?.request_id).toBe(requestId);

    // one request: its log line (pino-http, at its end) and the worker's line of the job it caused share the id
    const all = lines();
    const requestLine = all.find((l) => l.requestId === requestId && l.req);
    expect(requestLine).toMatchObject({
      req: { method: 'POST', url: `/v1/processes/${s.id}/events` },
      res: { statusCode: 200 },
    });
    const jobLine = all.find(
      (l) => l.requestId === requestId && l.queue === 'notifications' && l.msg === 'job done',
    );
    expect(jobLine).toBeDefined();
    // the timers armed by that request carry its id too (fired later by the worker)
    const timerJobs = await h.timersQueue.getJobs(['delayed', 'waiting']);
    const armed = timerJobs.filter(
      (j) => (j.data as { requestId?: string }).requestId === requestId,
    );
    expect(armed.length).toBeGreaterThan(0);

    // no line holds a codice fiscale, e-mail or PEC address of the scenario
    const pecs = await h.ds.query<{ pec: string }[]>(
      `SELECT pec FROM ente WHERE codice_ipa = ANY($1) AND pec IS NOT NULL`,
      [entes],
    );
    const addresses = new Set<string>([
      CF,
      PERSONAL,
      encodeURIComponent(PERSONAL),
      'protocollo@pec.unione.valdera.invalid',
      'iter@unione.valdera.invalid',
      ...pecs.map((p) => p.pec),
      ...peer.received.flatMap((m) => [...m.rcpt, m.from]),
    ]);
    expect(peer.received.length).toBeGreaterThanOrEqual(entes.length);
    expect(addresses.size).toBeGreaterThan(entes.length);
    const text = captured.join('').toLowerCase();
    const leaked = [...addresses].filter((a) => text.includes(a.toLowerCase()));
    expect(leaked).toEqual([]);
    // ...and the refused request with them in its URL was logged, masked
    expect(all.some((l) => l.req?.url === '/v1/processes?email=[email]&cf=[codice-fiscale]')).toBe(
      true,
    );
  });
});
