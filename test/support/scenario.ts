import { createHash } from 'node:crypto';
import type { Role } from '@app/common';
import { UNIONI_FIXTURES } from '@app/persistence';
import type { Harness } from './harness';

export const CONVENTION_TEXT =
  'CONVENZIONE PER LA GESTIONE IN FORMA ASSOCIATA DELLA FUNZIONE ICT E DELL’UFFICIO PER LA TRANSIZIONE AL DIGITALE\n' +
  'Art. 1 Oggetto. Art. 2 Trasferimento della funzione. Art. 3 Responsabile per la transizione al digitale. ' +
  'Art. 4 Riparto spese. Art. 5 Durata. Art. 6 Recesso.';
export const sha256 = (s: string) => createHash('sha256').update(s, 'utf8').digest('hex');

/** art. 49 TUEL: the parere di regolarità tecnica every deliberation on the convention carries */
export const pareri = (date: string) => [
  { type: 'TECNICO', outcome: 'FAVOREVOLE', signer: 'Responsabile servizio ICT', date },
];

export function unione(key: 'valdera' | 'valle-di-comino' | 'miracoli' | 'bassa-reggiana') {
  const u = UNIONI_FIXTURES.find((x) => x.key === key)!;
  return {
    ipa: u.codiceIpa,
    comuni: u.comuni.filter((c) => !c.joinedLater).map((c) => c.codiceIpa),
    fixture: u,
  };
}

/** A scenario over HTTP with tokens for every role of one unione. */
export class Scenario {
  id = '';
  version = 0;
  private tokens = new Map<string, string>();

  constructor(
    readonly h: Harness,
    readonly unioneIpa: string,
    readonly members: string[],
  ) {}

  async as(
    role: Role,
    ente: string | null = this.unioneIpa,
    unioneIpa: string | null = this.unioneIpa,
  ): Promise<string> {
    const k = `${role}/${ente}/${unioneIpa}`;
    if (!this.tokens.has(k))
      this.tokens.set(
        k,
        await this.h.token({
          roles: [role],
          ente,
          unione: unioneIpa,
          sub: `${role}.${ente ?? 'x'}`,
        }),
      );
    return this.tokens.get(k)!;
  }

  /** story time: the process starts on Sun 1 Feb 2026 (a step never gets an earlier time than the one before) */
  async start(policy?: Record<string, unknown>, businessKey?: string) {
    this.h.clock.set(new Date('2026-02-01T09:00:00Z'));
    const res = await this.h
      .http()
      .post('/v1/processes')
      .set('Authorization', `Bearer ${await this.as('presidente')}`)
      .send({
        definition: 'convenzione',
        ...(businessKey ? { businessKey } : {}),
        input: {
          title: 'Convenzione ICT',
          unione: this.unioneIpa,
          members: this.members,
          ...(policy ? { policy } : {}),
        },
      });
    if (res.status !== 201)
      throw new Error(`start failed: ${res.status} ${JSON.stringify(res.body)}`);
    this.id = res.body.id;
    this.version = res.body.version;
    return res;
  }

  async send(
    role: Role,
    ente: string | null,
    type: string,
    payload?: Record<string, unknown>,
    headers: Record<string, string> = {},
  ) {
    const req = this.h
      .http()
      .post(`/v1/processes/${this.id}/events`)
      .set('Authorization', `Bearer ${await this.as(role, ente)}`);
    for (const [k, v] of Object.entries(headers)) req.set(k, v);
    const res = await req.send(payload === undefined ? { type } : { type, payload });
    if (res.status === 200) this.version = res.body.version;
    return res;
  }

  async ok(role: Role, ente: string | null, type: string, payload?: Record<string, unknown>) {
    const res = await this.send(role, ente, type, payload);
    if (res.status !== 200)
      throw new Error(`${type} by ${role}@${ente}: ${res.status} ${JSON.stringify(res.body)}`);
    return res;
  }

  async get(role: Role = 'presidente', ente: string | null = this.unioneIpa) {
    return this.h
      .http()
      .get(`/v1/processes/${this.id}`)
      .set('Authorization', `Bearer ${await this.as(role, ente)}`);
  }

  async history() {
    return this.h
      .http()
      .get(`/v1/processes/${this.id}/history`)
      .set('Authorization', `Bearer ${await this.as('presidente')}`);
  }

  /** story time: the text is frozen on Mon 2 Feb 2026 */
  freeze(text = CONVENTION_TEXT) {
    this.h.clock.set(new Date('2026-02-02T09:00:00Z'));
    return this.ok('presidente', this.unioneIpa, 'convention.freeze', { text });
  }

  /** story time moves to Tue 10 Feb 2026, after the PEC delivery */
  sendToCouncils(deliveredAt: string) {
    this.h.clock.set(new Date('2026-02-10T09:00:00Z'));
    return this.ok('presidente', this.unioneIpa, 'convention.send', { deliveredAt });
  }

  approve(ente: string, number: string, date: string, opts: { ie?: boolean; text?: string } = {}) {
    return this.ok('segretario', ente, 'convention.deliberation.record', {
      ente,
      number,
      date,
      outcome: 'APPROVED',
      textHash: sha256(opts.text ?? CONVENTION_TEXT),
      pareri: pareri(date),
      ...(opts.ie
        ? {
            immediatamenteEseguibile: true,
            ieVotes: { favorevoli: 10, contrari: 2, astenuti: 0, presenti: 12, assegnati: 13 },
          }
        : {}),
    });
  }

  certify(ente: string, publicationStart: string, executiveOn: string) {
    return this.ok('segretario', ente, 'convention.executivity.certify', {
      ente,
      publicationStart,
      executiveOn,
    });
  }

  sign(ente: string, signedAt: string) {
    const role: Role = ente === this.unioneIpa ? 'presidente' : 'sindaco';
    return this.ok(role, ente, 'convention.sign', {
      ente,
      signedAt,
      signatureType: 'FIRMA_DIGITALE',
      digitalSignature: true,
    });
  }

  async eventCount(): Promise<number> {
    const rows: { n: number }[] = await this.h.ds.query(
      `SELECT count(*)::int AS n FROM process_event WHERE instance_id = $1`,
      [this.id],
    );
    return rows[0]!.n;
  }
}
