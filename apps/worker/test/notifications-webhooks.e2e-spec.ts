import { createHmac, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingHttpHeaders, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { Actor } from '@app/common';
import { loadNotificationConfig } from '@app/notifications';
import { WorkerModule } from '../src/worker.module';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, unione } from '../../../test/support/scenario';

/** The verification snippet of docs/notifications.md, verbatim: what a protocol system runs. */
function verifyIterWebhook(
  secret: string,
  headers: IncomingHttpHeaders,
  rawBody: string,
  toleranceSeconds = 300,
): boolean {
  const timestamp = Number(headers['x-iter-timestamp']);
  const signatures = String(headers['x-iter-signature'] ?? '')
    .split(',')
    .map((s) => s.trim())
    .filter((s) => s.startsWith('v1='))
    .map((s) => Buffer.from(s.slice(3), 'hex'));
  if (!Number.isInteger(timestamp)) return false;
  if (Math.abs(Date.now() / 1000 - timestamp) > toleranceSeconds) return false; // replay window
  const expected = createHmac('sha256', secret).update(`${timestamp}.${rawBody}`).digest();
  return signatures.some((sig) => sig.length === expected.length && timingSafeEqual(sig, expected));
}

interface Hit {
  headers: IncomingHttpHeaders;
  body: string;
}

/** Signed webhooks to a real HTTP receiver (node:http), subscriptions through the API. */
describe('webhooks (real worker, real HTTP receiver)', () => {
  let h: Harness;
  let worker: INestApplicationContext;
  let receiver: Server;
  let url: string;
  const hits: Hit[] = [];
  let failNext = 0;
  const v = unione('valdera');
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
    receiver = createServer((req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(503).end();
          return;
        }
        hits.push({ headers: req.headers, body: Buffer.concat(chunks).toString('utf8') });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    url = `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/iter`;
    worker = await NestFactory.createApplicationContext(
      WorkerModule.forRoot(h.config, h.clock, {
        reconcile: false,
        notifications: loadNotificationConfig({
          NOTIFY_BACKOFF_MS: '50',
          NOTIFY_BACKOFF_MAX_MS: '200',
        }),
      }),
      { logger: false },
    );
  });
  afterAll(async () => {
    await worker?.close();
    await h?.close();
    await new Promise((r) => receiver?.close(r));
  });

  const staff = () =>
    h.token({ roles: ['staff'], ente: v.ipa, unione: v.ipa, sub: 'staff.valdera' });

  async function started(title: string): Promise<string> {
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const s = await h.engine.start(
      { definition: 'convenzione', input: { title, unione: v.ipa, members: v.comuni.slice(0, 2) } },
      presidente,
    );
    await h.engine.dispatch(
      s.id,
      { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
      presidente,
    );
    return s.id;
  }
  const send = (id: string) => {
    h.clock.set(new Date('2026-02-05T12:00:00Z'));
    return h.engine.dispatch(
      id,
      { type: 'convention.send', payload: { deliveredAt: '2026-02-05T10:00:00+01:00' } },
      presidente,
    );
  };

  it('subscriptions: staff of the Unione create, list (no secret) and delete; others are refused', async () => {
    const t = await staff();
    const created = await h
      .http()
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${t}`)
      .send({ url: 'https://protocollo.valdera.invalid/hook', description: 'Protocollo' })
      .expect(201);
    expect(created.body.secret).toMatch(/^whsec_[A-Za-z0-9_-]{43}$/);
    expect(created.body.unione).toBe(v.ipa);
    const list = await h.http().get('/v1/webhooks').set('Authorization', `Bearer ${t}`).expect(200);
    expect(list.body.map((w: { id: string }) => w.id)).toContain(created.body.id);
    expect(JSON.stringify(list.body)).not.toContain(created.body.secret);
    expect(JSON.stringify(list.body)).not.toContain('secret"');

    const seg = await h.token({ roles: ['segretario'], ente: 'c_a864', unione: v.ipa });
    const refused = await h
      .http()
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${seg}`)
      .send({ url })
      .expect(403);
    expect(refused.body.code).toBe('FORBIDDEN');
    const other = await h
      .http()
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${t}`)
      .send({ url, unione: 'u_miracoli' })
      .expect(403);
    expect(other.body.code).toBe('FORBIDDEN');
    for (const body of [{ url: 'ftp://x.invalid/' }, { url, extra: 1 }, {}, { url: 'no url' }]) {
      const bad = await h
        .http()
        .post('/v1/webhooks')
        .set('Authorization', `Bearer ${t}`)
        .send(body)
        .expect(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');
    }
    const admin = await h.token({ roles: ['admin'], ente: null, unione: null });
    const noUnione = await h
      .http()
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${admin}`)
      .send({ url })
      .expect(400);
    expect(noUnione.body.details.fields[0].field).toBe('unione');
    // an Unione the registry does not know (or a comune) would never receive anything: refused, nothing written
    const subscriptions = async () =>
      (await h.ds.query<{ n: number }[]>(`SELECT count(*)::int AS n FROM webhook_subscription`))[0]!
        .n;
    const before = await subscriptions();
    for (const unione of ['u_nowhere', 'c_a864']) {
      const unknown = await h
        .http()
        .post('/v1/webhooks')
        .set('Authorization', `Bearer ${admin}`)
        .send({ url, unione })
        .expect(422);
      expect(unknown.body).toMatchObject({ code: 'ENTE_NOT_FOUND', details: { entes: [unione] } });
    }
    expect(await subscriptions()).toBe(before);

    await h
      .http()
      .delete(`/v1/webhooks/${created.body.id}`)
      .set('Authorization', `Bearer ${t}`)
      .expect(204);
    const gone = await h
      .http()
      .delete(`/v1/webhooks/${created.body.id}`)
      .set('Authorization', `Bearer ${t}`)
      .expect(404);
    expect(gone.body.code).toBe('WEBHOOK_NOT_FOUND');
    await h
      .http()
      .delete('/v1/webhooks/not-a-uuid')
      .set('Authorization', `Bearer ${t}`)
      .expect(400);
    // another Unione's staff does not see it
    const miracoli = await h.token({ roles: ['staff'], ente: 'u_miracoli', unione: 'u_miracoli' });
    const theirs = await h
      .http()
      .get('/v1/webhooks')
      .set('Authorization', `Bearer ${miracoli}`)
      .expect(200);
    expect(theirs.body).toEqual([]);
  });

  it('delivers one signed JSON body per notice kind and transition; tampered or stale deliveries fail verification', async () => {
    const t = await staff();
    const sub = await h
      .http()
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${t}`)
      .send({ url })
      .expect(201);
    const secret = sub.body.secret as string;
    const id = await started('Webhook');
    failNext = 1; // the receiver is down once: the delivery is retried
    await send(id);
    const hit = await eventually(async () =>
      hits.find((x) => JSON.parse(x.body).instanceId === id),
    );
    const body = JSON.parse(hit.body);
    expect(body).toMatchObject({
      kind: 'convention.sent',
      tenant: v.ipa,
      instanceId: id,
      eventSeq: 3,
    });
    expect(body.data.title).toBe('Webhook');
    expect(body.recipients).toEqual(
      expect.arrayContaining([
        { ente: 'c_a864', role: 'consiglio' },
        { ente: 'c_a864', role: 'segretario' },
      ]),
    );
    expect(hit.headers['content-type']).toBe('application/json');
    expect(hit.headers['x-iter-delivery']).toBe(body.id);
    expect(verifyIterWebhook(secret, hit.headers, hit.body)).toBe(true);
    // a tampered body, another secret, an old (or future) timestamp: refused
    expect(verifyIterWebhook(secret, hit.headers, hit.body.replace('Webhook', 'Webhooc'))).toBe(
      false,
    );
    expect(verifyIterWebhook(`${secret}x`, hit.headers, hit.body)).toBe(false);
    const old = Number(hit.headers['x-iter-timestamp']) - 600;
    const replayed = {
      ...hit.headers,
      'x-iter-timestamp': String(old),
      'x-iter-signature': `v1=${createHmac('sha256', secret).update(`${old}.${hit.body}`).digest('hex')}`,
    };
    expect(verifyIterWebhook(secret, replayed, hit.body)).toBe(false);
    // one delivery per kind per transition: a single hit for this process, the row delivered after 2 attempts
    await eventually(async () => {
      const r = await h.ds.query<{ status: string; attempts: number }[]>(
        `SELECT status, attempts FROM outbox WHERE instance_id = $1 AND channel = 'webhook'`,
        [id],
      );
      return r.length === 1 && r[0]!.status === 'delivered' && r[0]!.attempts === 2;
    });
    expect(hits.filter((x) => JSON.parse(x.body).instanceId === id)).toHaveLength(1);
    await h
      .http()
      .delete(`/v1/webhooks/${sub.body.id}`)
      .set('Authorization', `Bearer ${t}`)
      .expect(204);
  });

  it('rotating the secret: both the old and the new one verify during the overlap', async () => {
    const t = await staff();
    const sub = await h
      .http()
      .post('/v1/webhooks')
      .set('Authorization', `Bearer ${t}`)
      .send({ url })
      .expect(201);
    const rotated = await h
      .http()
      .post(`/v1/webhooks/${sub.body.id}/rotate-secret`)
      .set('Authorization', `Bearer ${t}`)
      .expect(200);
    expect(rotated.body.secret).not.toBe(sub.body.secret);
    expect(Date.parse(rotated.body.previousSecretValidUntil)).toBeGreaterThan(Date.now());
    const id = await started('Rotazione');
    await send(id);
    const hit = await eventually(async () =>
      hits.find((x) => JSON.parse(x.body).instanceId === id),
    );
    expect(String(hit.headers['x-iter-signature']).split(',')).toHaveLength(2);
    expect(verifyIterWebhook(rotated.body.secret, hit.headers, hit.body)).toBe(true);
    expect(verifyIterWebhook(sub.body.secret, hit.headers, hit.body)).toBe(true);
    const unknown = await h
      .http()
      .post('/v1/webhooks/00000000-0000-4000-8000-000000000000/rotate-secret')
      .set('Authorization', `Bearer ${t}`)
      .expect(404);
    expect(unknown.body.code).toBe('WEBHOOK_NOT_FOUND');
  });
});
