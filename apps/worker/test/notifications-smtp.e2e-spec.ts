import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import ICAL from 'ical.js';
import type { Actor } from '@app/common';
import { loadNotificationConfig } from '@app/notifications';
import { WorkerModule } from '../src/worker.module';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, pareri, sha256, unione } from '../../../test/support/scenario';
import { startSmtpPeer, type SmtpPeer } from '../../../test/support/smtp-peer';

/**
 * PEC and e-mail over SMTP end to end: the engine writes the outbox rows in the transition's transaction, the real
 * worker delivers them through nodemailer to a real SMTP server (smtp-server) in this process, and what arrived is
 * parsed back (mailparser, ical.js).
 */
describe('notifications over SMTP (real worker, real SMTP peer)', () => {
  let h: Harness;
  const v = unione('valdera');
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };
  let worker: INestApplicationContext | null = null;

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
  });
  afterEach(async () => {
    await worker?.close();
    worker = null;
  });
  afterAll(async () => h?.close());

  async function startWorker(smtpPort: number, extra: Record<string, string> = {}) {
    const notifications = loadNotificationConfig({
      PEC_SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      PEC_FROM: 'protocollo@pec.unione.valdera.invalid',
      SMTP_URL: `smtp://127.0.0.1:${smtpPort}`,
      SMTP_FROM: 'iter@unione.valdera.invalid',
      NOTIFY_BACKOFF_MS: '100',
      NOTIFY_BACKOFF_MAX_MS: '400',
      PUBLIC_BASE_URL: 'https://iter.unione.valdera.invalid',
      MESSAGE_ID_DOMAIN: 'iter.valdera.invalid',
      ...extra,
    });
    worker = await NestFactory.createApplicationContext(
      WorkerModule.forRoot(h.config, h.clock, { reconcile: false, notifications }),
      { logger: process.env['ITER_TEST_LOG'] ? ['log', 'warn', 'error'] : false },
    );
    return worker;
  }

  /** start + freeze + send on Thu 5 Feb 2026: 60-day term → Mon 6 Apr is Easter Monday → Tue 7 Apr */
  async function sendToCouncils(title: string): Promise<string> {
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const started = await h.engine.start(
      { definition: 'convenzione', input: { title, unione: v.ipa, members: v.comuni } },
      presidente,
    );
    await h.engine.dispatch(
      started.id,
      { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
      presidente,
    );
    h.clock.set(new Date('2026-02-05T12:00:00Z'));
    await h.engine.dispatch(
      started.id,
      { type: 'convention.send', payload: { deliveredAt: '2026-02-05T10:00:00+01:00' } },
      presidente,
    );
    return started.id;
  }

  const rows = (id: string, channel = 'pec') =>
    h.ds.query<
      { id: string; status: string; attempts: number; recipient_ente: string; message_id: string }[]
    >(
      `SELECT id, status, attempts, recipient_ente, message_id FROM outbox
       WHERE instance_id = $1 AND channel = $2 ORDER BY recipient_ente`,
      [id, channel],
    );
  const pecOf = async (codes: string[]) =>
    new Map(
      (
        await h.ds.query<{ codice_ipa: string; pec: string }[]>(
          `SELECT codice_ipa, pec FROM ente WHERE codice_ipa = ANY($1)`,
          [codes],
        )
      ).map((r) => [r.codice_ipa, r.pec]),
    );
  const ofProcess = (peer: SmtpPeer, id: string) =>
    peer.received.filter((m) => m.header('x-iter-process') === id);

  it('sends the text to each council’s PEC once, in Italian, with a calendar file on the due date', async () => {
    const peer = await startSmtpPeer();
    try {
      await startWorker(peer.port);
      const id = await sendToCouncils('Gestione associata ICT');
      const entes = [v.ipa, ...v.comuni];
      const expected = await pecOf(entes);
      const delivered = await eventually(async () => {
        const r = await rows(id);
        return r.length === entes.length && r.every((x) => x.status === 'delivered') && r;
      });
      // one PEC per ente (council and segretario named in one message), to the PEC of the registry
      const mails = ofProcess(peer, id);
      expect(mails).toHaveLength(entes.length);
      expect(
        mails
          .map((m) => m.rcpt)
          .flat()
          .sort(),
      ).toEqual([...expected.values()].sort());
      expect(new Set(mails.map((m) => m.messageId)).size).toBe(entes.length);
      // the Message-ID is the row's stable id
      expect(mails.map((m) => m.messageId).sort()).toEqual(
        delivered.map((r) => `<${r.id}@iter.valdera.invalid>`).sort(),
      );
      for (const m of mails) {
        const code = m.header('x-iter-notification');
        const row = delivered.find((r) => r.id === code)!;
        expect(m.rcpt).toEqual([expected.get(row.recipient_ente)]);
        expect(m.mail.from?.value[0]?.address).toBe('protocollo@pec.unione.valdera.invalid');
        expect(m.mail.subject).toBe(
          'Trasmissione dello schema di convenzione «Gestione associata ICT» — deliberare entro martedì 7 aprile 2026',
        );
        const text = m.mail.text ?? '';
        expect(text).toContain('Alla c.a. di: Consiglio');
        expect(text).toContain(`versione 1, impronta SHA-256 ${sha256(CONVENTION_TEXT)}`);
        expect(text).toContain('entro martedì 7 aprile 2026');
        expect(text).toContain(`Dove: https://iter.unione.valdera.invalid/processi/${id}`);
        expect(text).toContain('art. 30 del D.Lgs. 18 agosto 2000, n. 267 (TUEL)');
        expect(text).toContain('art. 45, c. 2, D.Lgs. 82/2005');
        // the calendar file: an all-day event on the due date, with an alarm
        const ics = m.mail.attachments.find((a) => a.contentType.startsWith('text/calendar'));
        expect(ics?.filename).toBe('scadenza-2026-04-07.ics');
        const cal = new ICAL.Component(ICAL.parse(ics!.content.toString('utf8')));
        const ev = cal.getFirstSubcomponent('vevent')!;
        const start = ev.getFirstPropertyValue('dtstart') as ICAL.Time;
        expect(start.isDate).toBe(true);
        expect(start.toString()).toBe('2026-04-07');
        expect((ev.getFirstPropertyValue('dtend') as ICAL.Time).toString()).toBe('2026-04-08');
        expect(ev.getAllSubcomponents('valarm').length).toBeGreaterThan(0);
        expect(String(ev.getFirstPropertyValue('summary'))).toContain('Gestione associata ICT');
      }
      // a comune's notice names its council and segretario
      const palaia = mails.find((m) => m.rcpt[0] === expected.get('c_g254'))!;
      expect(palaia.mail.text).toContain(
        'Alla c.a. di: Consiglio comunale e Segretario comunale di Palaia',
      );
      // the inbox rows are delivered too (the in-app channel)
      expect((await rows(id, 'inbox')).every((r) => r.status === 'delivered')).toBe(true);
    } finally {
      await peer.stop();
    }
  });

  it('one e-mail per mailbox: the presidente and the staff without a contact of their own share the Unione’s PEC', async () => {
    const peer = await startSmtpPeer();
    try {
      await startWorker(peer.port);
      const record = async (id: string, ente: string, number: string) =>
        h.engine.dispatch(
          id,
          {
            type: 'convention.deliberation.record',
            payload: {
              ente,
              number,
              date: '2026-02-20',
              outcome: 'APPROVED',
              textHash: sha256(CONVENTION_TEXT),
              pareri: pareri('2026-02-20'),
            },
          },
          { subject: `segretario-${ente}`, roles: ['segretario'], ente, unione: v.ipa },
        );
      const recorded = async (id: string) =>
        await h.ds.query<{ id: string; status: string; recipient_role: string }[]>(
          `SELECT id, status, recipient_role FROM outbox WHERE instance_id = $1 AND channel = 'email'
               AND template = 'convention.deliberation-recorded' ORDER BY recipient_role`,
          [id],
        );
      const pec = (await pecOf([v.ipa])).get(v.ipa)!;

      // no e-mail contacts in the registry: both rows fall back to the Unione's PEC → one message, both roles
      const id = await sendToCouncils('Una sola e-mail');
      h.clock.set(new Date('2026-02-20T17:00:00Z'));
      await record(id, 'c_g254', '9101');
      const rows1 = await eventually(async () => {
        const r = await recorded(id);
        return r.length === 2 && r.every((x) => x.status === 'delivered') && r;
      });
      expect(rows1.map((r) => r.recipient_role)).toEqual(['presidente', 'staff']);
      const mails = ofProcess(peer, id).filter(
        (m) => m.header('x-iter-kind') === 'convention.deliberation-recorded',
      );
      expect(mails).toHaveLength(1);
      expect(mails[0]!.rcpt).toEqual([pec]);
      expect(mails[0]!.mail.text).toContain('Alla c.a. di: Presidente dell’Unione e Uffici — ');

      // a staff contact of its own: two mailboxes, two messages
      await h.ds.query(`UPDATE ente SET contacts = $2 WHERE codice_ipa = $1`, [
        v.ipa,
        JSON.stringify({ staff: 'staff@unione.valdera.invalid' }),
      ]);
      try {
        const id2 = await sendToCouncils('Due caselle');
        h.clock.set(new Date('2026-02-20T17:00:00Z'));
        await record(id2, 'c_g254', '9102');
        await eventually(async () => {
          const r = await recorded(id2);
          return r.length === 2 && r.every((x) => x.status === 'delivered');
        });
        const two = ofProcess(peer, id2).filter(
          (m) => m.header('x-iter-kind') === 'convention.deliberation-recorded',
        );
        expect(two.map((m) => m.rcpt[0]).sort()).toEqual(
          [pec, 'staff@unione.valdera.invalid'].sort(),
        );
      } finally {
        await h.ds.query(`UPDATE ente SET contacts = '{}' WHERE codice_ipa = $1`, [v.ipa]);
      }
    } finally {
      await peer.stop();
    }
  });

  it('SMTP down: retries with backoff, then exactly one message per notice once it is back', async () => {
    const peer = await startSmtpPeer();
    await peer.stop(); // the port is known, nothing listens: connection refused
    try {
      await startWorker(peer.port, { NOTIFY_MAX_ATTEMPTS: '100' });
      const id = await sendToCouncils('SMTP giù');
      await eventually(async () => {
        const r = await rows(id);
        return r.length === 8 && r.every((x) => x.attempts >= 2 && x.status !== 'delivered');
      });
      await peer.start();
      const done = await eventually(async () => {
        const r = await rows(id);
        return r.every((x) => x.status === 'delivered') && r;
      });
      const mails = ofProcess(peer, id);
      expect(mails).toHaveLength(8);
      expect(mails.map((m) => m.messageId).sort()).toEqual(done.map((r) => r.message_id).sort());
      // nothing more arrives afterwards: the rows are delivered, the batch job is done
      await worker!.close();
      worker = null;
      expect(ofProcess(peer, id)).toHaveLength(8);
    } finally {
      await peer.stop();
    }
  });

  it('dead letter after N failed attempts; an admin lists it and re-sends it; it arrives once', async () => {
    const peer = await startSmtpPeer();
    await peer.stop();
    try {
      await startWorker(peer.port, { NOTIFY_MAX_ATTEMPTS: '3' });
      const id = await sendToCouncils('Lettera morta');
      const dead = await eventually(async () => {
        const r = await rows(id);
        return r.length === 8 && r.every((x) => x.status === 'dead') && r;
      });
      expect(dead.every((r) => r.attempts === 3)).toBe(true);

      const admin = await h.token({ roles: ['admin'], ente: null, unione: null, sub: 'admin' });
      const list = await h
        .http()
        .get('/v1/notifications?status=dead')
        .set('Authorization', `Bearer ${admin}`)
        .expect(200);
      const listed = (list.body as { id: string; lastError: string; instanceId: string }[]).filter(
        (n) => n.instanceId === id,
      );
      expect(listed.map((n) => n.id).sort()).toEqual(dead.map((r) => r.id).sort());
      // no address in what the API shows
      for (const pec of (await pecOf([v.ipa, ...v.comuni])).values())
        expect(JSON.stringify(listed)).not.toContain(pec);

      // a segretario may not see dead letters, nor re-send
      const seg = await h.token({ roles: ['segretario'], ente: 'c_g254', unione: v.ipa });
      await h
        .http()
        .get('/v1/notifications?status=dead')
        .set('Authorization', `Bearer ${seg}`)
        .expect(403);
      const refused = await h
        .http()
        .post(`/v1/notifications/${dead[0]!.id}/resend`)
        .set('Authorization', `Bearer ${seg}`)
        .expect(403);
      expect(refused.body.code).toBe('FORBIDDEN');
      // a bad status filter is a 400 naming the field
      const bad = await h
        .http()
        .get('/v1/notifications?status=lost')
        .set('Authorization', `Bearer ${admin}`)
        .expect(400);
      expect(bad.body.code).toBe('VALIDATION_FAILED');

      await peer.start();
      for (const r of dead) {
        const res = await h
          .http()
          .post(`/v1/notifications/${r.id}/resend`)
          .set('Authorization', `Bearer ${admin}`)
          .expect(202);
        expect(res.body).toEqual({ id: r.id, status: 'pending' });
      }
      await eventually(async () => (await rows(id)).every((x) => x.status === 'delivered'));
      expect(ofProcess(peer, id)).toHaveLength(8);
      expect(new Set(ofProcess(peer, id).map((m) => m.messageId)).size).toBe(8);
      // a delivered notice is not re-sendable; an unknown one is 404
      const again = await h
        .http()
        .post(`/v1/notifications/${dead[0]!.id}/resend`)
        .set('Authorization', `Bearer ${admin}`)
        .expect(422);
      expect(again.body.details.rule).toBe('NOT_RESENDABLE');
      const unknown = await h
        .http()
        .post('/v1/notifications/00000000-0000-4000-8000-000000000000/resend')
        .set('Authorization', `Bearer ${admin}`)
        .expect(404);
      expect(unknown.body.code).toBe('NOTIFICATION_NOT_FOUND');
    } finally {
      await peer.stop();
    }
  });
});
