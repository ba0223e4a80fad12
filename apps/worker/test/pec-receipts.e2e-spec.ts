import { NestFactory } from '@nestjs/core';
import type { INestApplicationContext } from '@nestjs/common';
import type { Actor } from '@app/common';
import { loadNotificationConfig } from '@app/notifications';
import { ImapPollerService } from '../src/imap-poller.service';
import { WorkerModule } from '../src/worker.module';
import { eventually, startHarness, type Harness } from '../../../test/support/harness';
import { CONVENTION_TEXT, unione } from '../../../test/support/scenario';
import { startDovecot, type Dovecot } from '../../../test/support/dovecot';
import { pecReceipt, type ReceiptSpec } from '../../../test/support/pec-receipts';
import { startSmtpPeer, type SmtpPeer } from '../../../test/support/smtp-peer';

/**
 * PEC receipts feed the process: a real IMAP server (Dovecot, from the Debian packages) holds the receipts the
 * providers sent back to the sending box; the real worker reads them (imapflow), parses daticert.xml, matches
 * them to the notices by Message-ID and records each council's delivery date as a system event, exactly once.
 */
describe('PEC receipts over IMAP (Dovecot, real worker)', () => {
  let h: Harness;
  let dovecot: Dovecot;
  let peer: SmtpPeer;
  let worker: INestApplicationContext;
  let poller: ImapPollerService;
  const v = unione('valdera');
  const SENDER = 'protocollo@pec.unione.valdera.invalid';
  const presidente: Actor = {
    subject: 'presidente',
    roles: ['presidente'],
    ente: v.ipa,
    unione: v.ipa,
  };

  beforeAll(async () => {
    h = await startHarness({ isolatedDb: true });
    dovecot = await startDovecot();
    peer = await startSmtpPeer();
    worker = await NestFactory.createApplicationContext(
      WorkerModule.forRoot(h.config, h.clock, {
        reconcile: false,
        notifications: loadNotificationConfig({
          PEC_SMTP_URL: `smtp://127.0.0.1:${peer.port}`,
          PEC_FROM: SENDER,
          SMTP_URL: `smtp://127.0.0.1:${peer.port}`,
          SMTP_FROM: 'iter@unione.valdera.invalid',
          IMAP_URL: dovecot.url,
          IMAP_POLL_MS: '200',
          NOTIFY_BACKOFF_MS: '100',
        }),
      }),
      { logger: process.env['ITER_TEST_LOG'] ? ['log', 'warn', 'error'] : false },
    );
    poller = worker.get(ImapPollerService);
  }, 120_000);
  afterAll(async () => {
    await worker?.close();
    await peer?.stop();
    await dovecot?.stop();
    await h?.close();
  });

  const count = async (sql: string, params: unknown[] = []) =>
    (await h.ds.query<{ n: number }[]>(sql, params))[0]!.n;

  it('records each council’s delivery from its own receipt, once; alerts on mancata consegna; keeps the rest aside', async () => {
    // the text is sent on Thu 5 Feb 2026 (the presidente's provisional date): every term to Tue 7 Apr
    h.clock.set(new Date('2026-02-02T09:00:00Z'));
    const started = await h.engine.start(
      {
        definition: 'convenzione',
        input: { title: 'Ricevute PEC', unione: v.ipa, members: v.comuni },
      },
      presidente,
    );
    const id = started.id;
    await h.engine.dispatch(
      id,
      { type: 'convention.freeze', payload: { text: CONVENTION_TEXT } },
      presidente,
    );
    h.clock.set(new Date('2026-02-05T09:30:00Z'));
    await h.engine.dispatch(
      id,
      { type: 'convention.send', payload: { deliveredAt: '2026-02-05T10:00:00+01:00' } },
      presidente,
    );
    const sent = await eventually(async () => {
      const r = await h.ds.query<{ recipient_ente: string; message_id: string; status: string }[]>(
        `SELECT recipient_ente, message_id, status FROM outbox WHERE instance_id = $1 AND channel = 'pec'`,
        [id],
      );
      return r.length === 8 && r.every((x) => x.status === 'delivered') && r;
    });
    const msgid = (ente: string) => sent.find((r) => r.recipient_ente === ente)!.message_id;
    const pec = new Map(
      (
        await h.ds.query<{ codice_ipa: string; pec: string }[]>(
          `SELECT codice_ipa, pec FROM ente WHERE codice_ipa = ANY($1)`,
          [[v.ipa, ...v.comuni]],
        )
      ).map((r) => [r.codice_ipa, r.pec]),
    );
    const subject = peer.received.find((m) => m.messageId === msgid('c_g254'))!.mail.subject!;
    const base = (
      ente: string,
      kind: ReceiptSpec['kind'],
      giorno: string,
      ora: string,
      n: string,
    ): ReceiptSpec => ({
      kind,
      msgid: msgid(ente),
      identificativo: `opec21010.${giorno.split('/').reverse().join('')}${ora.replace(/:/g, '')}.${n}@pec.gestore.invalid`,
      giorno,
      ora,
      mittente: SENDER,
      destinatario: pec.get(ente)!,
      oggetto: subject,
    });
    const eventsBefore = await count(
      `SELECT count(*)::int AS n FROM process_event WHERE instance_id = $1`,
      [id],
    );

    // the receipts arrive days later (the clock of the process moves on too)
    h.clock.set(new Date('2026-02-10T12:00:00Z'));
    const palaiaConsegna = await pecReceipt(
      base('c_g254', 'avvenuta-consegna', '09/02/2026', '09:12:00', '2'),
    );
    const messages: Buffer[] = [
      await pecReceipt(base('c_g254', 'accettazione', '05/02/2026', '10:00:05', '1')),
      palaiaConsegna,
      palaiaConsegna, // the same receipt twice in the box
      await pecReceipt(base('c_b303', 'avvenuta-consegna', '05/02/2026', '10:00:20', '3')),
      await pecReceipt({
        ...base('c_b647', 'errore-consegna', '05/02/2026', '10:01:00', '4'),
        errore: 'no-dest',
        erroreEsteso: '5.1.1 - casella inesistente',
      }),
      // a receipt for a message Iter never sent
      await pecReceipt({
        ...base('c_a864', 'avvenuta-consegna', '06/02/2026', '08:00:00', '5'),
        msgid: '<altro@altrove.invalid>',
      }),
      // a receipt whose daticert.xml is broken
      Buffer.from(
        (await pecReceipt(base('c_a864', 'avvenuta-consegna', '06/02/2026', '08:00:00', '6')))
          .toString('utf8')
          .replace(
            /Content-Type: application\/xml[\s\S]*?\r\n\r\n([\s\S]*?)\r\n--/,
            (m, b64: string) =>
              m.replace(
                b64,
                Buffer.from('<postacert tipo="avvenuta-consegna"><dati><msgid>').toString('base64'),
              ),
          ),
      ),
      // not a receipt at all
      Buffer.from(
        'From: qualcuno@esempio.invalid\r\nTo: protocollo@pec.unione.valdera.invalid\r\nSubject: Buongiorno\r\nMessage-ID: <ciao@esempio.invalid>\r\n\r\nUn messaggio qualsiasi.\r\n',
      ),
    ];
    for (const m of messages) await dovecot.append(m);

    await eventually(
      async () => (await count(`SELECT count(*)::int AS n FROM pec_receipt`)) === 7,
      30_000,
    );
    await poller.pollOnce(); // a further poll reads nothing new (every message carries $IterProcessed)

    const receipts = await h.ds.query<
      {
        kind: string | null;
        ente: string | null;
        status: string;
        reason: string | null;
        raw_len: number;
        event_seq: number | null;
      }[]
    >(
      `SELECT kind, ente, status, reason, octet_length(raw) AS raw_len, event_seq FROM pec_receipt ORDER BY received_at`,
    );
    const by = (ente: string, kind: string) =>
      receipts.find((r) => r.ente === ente && r.kind === kind);
    expect(by('c_g254', 'accettazione')?.status).toBe('matched');
    expect(by('c_g254', 'avvenuta-consegna')?.status).toBe('applied');
    expect(by('c_b303', 'avvenuta-consegna')?.status).toBe('applied');
    expect(by('c_b647', 'errore-consegna')).toMatchObject({
      status: 'matched',
      reason: 'mancata consegna (no-dest)',
    });
    expect(
      receipts
        .filter((r) => r.status === 'rejected')
        .map((r) => r.reason!.split(':')[0])
        .sort(),
    ).toEqual(['MALFORMED_DATICERT', 'NOT_A_RECEIPT', 'UNKNOWN_MESSAGE']);
    expect(receipts.every((r) => r.raw_len > 100)).toBe(true); // the raw messages are kept as evidence

    // the delivery dates reached the process exactly once each, as system events
    const events = await h.ds.query<
      { payload: { ente: string; deliveredAt: string }; actor_role: string; seq: number }[]
    >(
      `SELECT payload, actor_role, seq FROM process_event WHERE instance_id = $1 AND type = 'convention.delivery.receipt' ORDER BY seq`,
      [id],
    );
    expect(events.map((e) => [e.payload.ente, e.payload.deliveredAt, e.actor_role])).toEqual(
      expect.arrayContaining([
        ['c_g254', '2026-02-09T08:12:00.000Z', 'system'],
        ['c_b303', '2026-02-05T09:00:20.000Z', 'system'],
      ]),
    );
    expect(events).toHaveLength(2);
    expect(
      await count(`SELECT count(*)::int AS n FROM process_event WHERE instance_id = $1`, [id]),
    ).toBe(eventsBefore + 2);
    // each council's term from its own receipt: Palaia's from Mon 9 Feb → Fri 10 Apr; Buti keeps Tue 7 Apr
    const view = await h.engine.viewOf(id, presidente);
    const row = (code: string) =>
      (
        view.data as { entes: { ente: string; deadline: { date: string }; delivery: unknown }[] }
      ).entes.find((e) => e.ente === code)!;
    expect(row('c_g254').deadline.date).toBe('2026-04-10');
    expect(row('c_g254').delivery).toMatchObject({
      source: 'pec-receipt',
      deliveredAt: '2026-02-09T08:12:00.000Z',
    });
    expect(row('c_b303').deadline.date).toBe('2026-04-07');
    expect(row('c_a864').delivery).toBeNull();

    // the notices carry the receipt
    const pecRows = await h.ds.query<{ recipient_ente: string; pec_status: string | null }[]>(
      `SELECT recipient_ente, pec_status FROM outbox WHERE instance_id = $1 AND channel = 'pec'`,
      [id],
    );
    const statusOf = (e: string) => pecRows.find((r) => r.recipient_ente === e)!.pec_status;
    expect([
      statusOf('c_g254'),
      statusOf('c_b303'),
      statusOf('c_b647'),
      statusOf('c_a864'),
    ]).toEqual(['avvenuta-consegna', 'avvenuta-consegna', 'mancata-consegna', null]);

    // the mancata consegna raised an alert to the Unione staff: in the inbox, and by e-mail
    const alerts = await eventually(async () => {
      const r = await h.ds.query<
        { channel: string; recipient_ente: string; recipient_role: string; status: string }[]
      >(
        `SELECT channel, recipient_ente, recipient_role, status FROM outbox WHERE template = 'notification.delivery-failed' AND instance_id = $1`,
        [id],
      );
      return r.length === 2 && r.every((x) => x.status === 'delivered') && r;
    });
    expect(alerts.map((a) => [a.channel, a.recipient_ente, a.recipient_role]).sort()).toEqual([
      ['email', v.ipa, 'staff'],
      ['inbox', v.ipa, 'staff'],
    ]);
    const mail = peer.received.find(
      (m) => m.header('x-iter-kind') === 'notification.delivery-failed',
    )!;
    expect(mail.mail.subject).toContain('Mancata consegna PEC a Capannoli');
    expect(mail.mail.text).toContain('5.1.1 - casella inesistente');
    const staff = await h.token({ roles: ['staff'], ente: v.ipa, unione: v.ipa });
    const inbox = await h
      .http()
      .get('/v1/notifications')
      .set('Authorization', `Bearer ${staff}`)
      .expect(200);
    expect(
      inbox.body.some((n: { template: string }) => n.template === 'notification.delivery-failed'),
    ).toBe(true);

    // the same receipt again (another poll, another worker): nothing more
    expect(await poller.receipts.ingest(palaiaConsegna)).toMatchObject({ status: 'duplicate' });
    expect(
      await count(`SELECT count(*)::int AS n FROM process_event WHERE instance_id = $1`, [id]),
    ).toBe(eventsBefore + 2);

    // manual recording stays possible: the staff records Bientina's delivery; a later receipt is evidence only
    const res = await h
      .http()
      .post(`/v1/processes/${id}/events`)
      .set('Authorization', `Bearer ${staff}`)
      .send({
        type: 'convention.delivery.record',
        payload: { ente: 'c_a864', deliveredAt: '2026-02-06T08:30:00+01:00' },
      })
      .expect(200);
    expect(
      res.body.data.entes.find((e: { ente: string }) => e.ente === 'c_a864').delivery.source,
    ).toBe('manual');
    const late = await poller.receipts.ingest(
      await pecReceipt(base('c_a864', 'avvenuta-consegna', '06/02/2026', '08:31:00', '7')),
    );
    expect(late).toMatchObject({ status: 'matched' });
    expect((late as { reason: string }).reason).toMatch(/^DELIVERY_ALREADY_RECORDED/);
    // and a segretario may not record a delivery
    const seg = await h.token({ roles: ['segretario'], ente: 'c_a864', unione: v.ipa });
    await h
      .http()
      .post(`/v1/processes/${id}/events`)
      .set('Authorization', `Bearer ${seg}`)
      .send({
        type: 'convention.delivery.record',
        payload: { ente: 'c_a864', deliveredAt: '2026-02-06T08:30:00+01:00' },
      })
      .expect(403);
  }, 120_000);
});
