import type { AddressInfo } from 'node:net';
import { SMTPServer } from 'smtp-server';
import { DeliveryService, loadNotificationConfig, mailTransports } from '@app/notifications';
import type { BenchContext } from '../lib/context';
import { forEachConcurrent } from '../lib/load';
import { fmtInt, nowMs } from '../lib/stats';
import { createConventions } from '../lib/world';

/**
 * 8. Notifications: the outbox rows of N conventions just sent to their councils (each send = 16 inbox rows + 8
 * PEC messages, one delivery batch) delivered by DeliveryService, 8 batches at a time, to a real SMTP server in
 * this process (smtp-server, messages drained, not parsed). Figures: rows delivered per second, PEC messages per
 * second. No worker and no queue: this is the delivery path itself (the queue adds one job per transition).
 */
export async function notificationsSection(ctx: BenchContext): Promise<void> {
  const { world, report, progress, quick } = ctx;
  let messages = 0;
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS', 'AUTH'],
    logger: false,
    closeTimeout: 200,
    onData(stream, _session, cb) {
      stream.on('data', () => undefined);
      stream.on('end', () => {
        messages++;
        cb();
      });
    },
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.server.address() as AddressInfo).port;
  const conventions = quick ? 20 : 200;
  const { ids } = await createConventions(world, conventions, {
    label: 'notifications',
    progress,
  });
  const batches = await world.ds.query<{ id: string; n: number }[]>(
    `SELECT min(id::text COLLATE "C") AS id, count(*)::int AS n FROM outbox
     WHERE instance_id = ANY($1) AND status = 'pending' GROUP BY instance_id, event_seq`,
    [ids],
  );
  const rows = batches.reduce((s, b) => s + b.n, 0);
  const cfg = loadNotificationConfig({
    PEC_SMTP_URL: `smtp://127.0.0.1:${port}`,
    PEC_FROM: 'protocollo@pec.bench.invalid',
    SMTP_URL: `smtp://127.0.0.1:${port}`,
    SMTP_FROM: 'iter@bench.invalid',
  });
  const ds = await world.dataSource(8);
  const transports = mailTransports(cfg);
  const delivery = new DeliveryService(ds, cfg, transports);
  progress.set(`notifications: delivering ${fmtInt(rows)} rows`);
  const t0 = nowMs();
  await forEachConcurrent(batches, 8, async (b) => {
    await delivery.deliverBatch(b.id);
  });
  const seconds = (nowMs() - t0) / 1000;
  const delivered = (
    await world.ds.query<{ n: number }[]>(
      `SELECT count(*)::int AS n FROM outbox WHERE instance_id = ANY($1) AND status = 'delivered'`,
      [ids],
    )
  )[0]!.n;
  transports.pec?.close();
  transports.email?.close();
  await ds.destroy();
  await new Promise<void>((r) => server.close(() => r()));
  progress.log(
    `notifications: ${fmtInt(delivered)} of ${fmtInt(rows)} rows delivered (${fmtInt(messages)} PEC messages) in ${seconds.toFixed(2)} s`,
  );
  report.add({
    section: '8 notifications',
    name: 'notifications delivered/s (inbox + PEC over SMTP, 8 batches at once)',
    value: delivered / seconds,
    unit: '/s',
    note: `${fmtInt(delivered)}/${fmtInt(rows)} rows of ${fmtInt(batches.length)} transitions`,
  });
  report.add({
    section: '8 notifications',
    name: 'PEC messages/s to an SMTP server on loopback',
    value: messages / seconds,
    unit: '/s',
    note: 'nodemailer pool of 4 connections per channel; a real provider adds its own latency',
  });
  report.detail('notifications', { rows, delivered, messages, seconds, batches: batches.length });
}
