import { maskPersonalData, requestIdFrom } from '@app/common';
import { createRootLogger } from './logging';

describe('logging', () => {
  const capture = () => {
    const lines: string[] = [];
    const log = createRootLogger(
      { logLevel: 'info', logFormat: 'json' },
      { write: (l: string) => lines.push(l) },
    );
    return { log, lines, parsed: () => lines.map((l) => JSON.parse(l) as Record<string, unknown>) };
  };

  it('writes errors with their type, message and stack', () => {
    const { log, parsed } = capture();
    log.error({ err: new TypeError('bad thing') }, 'failed');
    const err = parsed()[0]!['err'] as { type: string; message: string; stack: string };
    expect(err.type).toBe('TypeError');
    expect(err.message).toBe('bad thing');
    expect(err.stack).toMatch(/TypeError: bad thing\n\s+at /);
  });

  it('removes credentials and personal data fields, and masks CF and addresses anywhere else', () => {
    const { log, lines, parsed } = capture();
    log.info(
      {
        req: { headers: { authorization: 'Bearer abc.def', cookie: 'iter_session=1' } },
        recipient: { email: 'anna@comune.invalid', pec: 'protocollo@pec.comune.invalid' },
      },
      'sent to giulia.bianchi@pec.it for BNCGLI85T41F205X',
    );
    log.error({ err: new Error('550 <mario@example.org> rejected') }, 'send failed');
    const text = lines.join('');
    for (const secret of [
      'abc.def',
      'iter_session',
      'anna@',
      'protocollo@',
      'giulia.bianchi',
      'BNCGLI85T41F205X',
      'mario@',
    ])
      expect(text).not.toContain(secret);
    expect(parsed()[0]!['msg']).toBe('sent to [email] for [codice-fiscale]');
    expect(parsed()[1]!['err']).toMatchObject({ message: '550 <[email]> rejected' });
  });

  it('masks only what looks like personal data', () => {
    expect(maskPersonalData('process 0b9c2f64-9a0e-4a8e-b2cf-1f1f8f0e2a11 at c_g254')).toBe(
      'process 0b9c2f64-9a0e-4a8e-b2cf-1f1f8f0e2a11 at c_g254',
    );
    expect(maskPersonalData('to=x%40pec.it')).toBe('to=[email]');
    expect(maskPersonalData('cf rssmra80a01h501u')).toBe('cf [codice-fiscale]');
  });

  it('keeps a plain bounded X-Request-Id and replaces any other', () => {
    expect(requestIdFrom('abc-123_x.y:z')).toBe('abc-123_x.y:z');
    expect(requestIdFrom(['first', 'second'])).toBe('first');
    const uuid = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
    for (const bad of [
      undefined,
      '',
      'x'.repeat(129),
      'a b',
      '<script>',
      'RSSMRA80A01H501U',
      'a@b.it',
    ])
      expect(requestIdFrom(bad)).toMatch(uuid);
  });
});
