import type { DataSource } from 'typeorm';
import {
  appendRegistryEvent,
  AUDIT_SELECT,
  type EnteAuditData,
  type RegistryActor,
} from './ente-registry-audit';

export interface EnteRecord {
  id: string;
  kind: 'COMUNE' | 'UNIONE';
  denominazione: string;
  codiceIpa: string;
  codiceIstat: string | null;
  codiceCatastale: string | null;
  codiceFiscale: string | null;
  pec: string | null;
  regione: string | null;
  provincia: string | null;
  popolazione: number | null;
  /** codice IPA of the unione this comune belongs to */
  unione: string | null;
}

const SELECT = `SELECT e.id, e.kind, e.denominazione, e.codice_ipa AS "codiceIpa", e.codice_istat AS "codiceIstat",
  e.codice_catastale AS "codiceCatastale", e.codice_fiscale AS "codiceFiscale", e.pec, e.regione, e.provincia,
  e.popolazione, u.codice_ipa AS unione
  FROM ente e LEFT JOIN ente u ON u.id = e.unione_id`;

export class EnteRepository {
  constructor(private readonly ds: DataSource) {}

  async findByCodes(codes: readonly string[]): Promise<Map<string, EnteRecord>> {
    if (codes.length === 0) return new Map();
    const rows: EnteRecord[] = await this.ds.query(`${SELECT} WHERE e.codice_ipa = ANY($1)`, [
      codes,
    ]);
    return new Map(rows.map((r) => [r.codiceIpa, r]));
  }

  async list(filter: { unione?: string; kind?: 'COMUNE' | 'UNIONE' } = {}): Promise<EnteRecord[]> {
    const where: string[] = [];
    const params: unknown[] = [];
    if (filter.unione) {
      params.push(filter.unione);
      where.push(`(u.codice_ipa = $${params.length} OR e.codice_ipa = $${params.length})`);
    }
    if (filter.kind) {
      params.push(filter.kind);
      where.push(`e.kind = $${params.length}`);
    }
    return this.ds.query(
      `${SELECT} ${where.length ? `WHERE ${where.join(' AND ')}` : ''} ORDER BY e.kind DESC, e.denominazione`,
      params,
    );
  }

  /**
   * Insert or update by codice IPA, audited in the registry chain (ente_event) in the same transaction.
   * An update changes only the fields given (`undefined` = keep what is stored; `null` = clear it), so an
   * update that omits `pec` or `popolazione` never nulls them. Returns the id and what happened.
   */
  async save(
    e: EnteChange,
    actor: RegistryActor,
  ): Promise<{ id: string; op: 'create' | 'update' | 'unchanged'; changed: string[] }> {
    return this.ds.transaction(async (m) => {
      const existing = (
        await m.query<EnteAuditData[]>(`${AUDIT_SELECT} WHERE e.codice_ipa = $1 FOR UPDATE OF e`, [
          e.codiceIpa,
        ])
      )[0];
      const given = Object.fromEntries(
        Object.entries(e).filter(([, v]) => v !== undefined),
      ) as Partial<EnteChange>;
      const merged = { ...(existing ?? EMPTY), ...given };
      const params = [
        merged.kind,
        merged.denominazione,
        merged.codiceIpa,
        merged.codiceIstat ?? null,
        merged.codiceCatastale ?? null,
        merged.codiceFiscale ?? null,
        merged.pec ?? null,
        merged.regione ?? null,
        merged.provincia ?? null,
        merged.popolazione ?? null,
        merged.popolazioneRef ?? null,
        merged.unione ?? null,
      ];
      const rows = await m.query<{ id: string }[] | [{ id: string }[], number]>(
        existing
          ? `UPDATE ente SET kind = $1, denominazione = $2, codice_istat = $4, codice_catastale = $5,
               codice_fiscale = $6, pec = $7, regione = $8, provincia = $9, popolazione = $10, popolazione_ref = $11,
               unione_id = (SELECT id FROM ente WHERE codice_ipa = $12), updated_at = now()
             WHERE codice_ipa = $3 RETURNING id`
          : `INSERT INTO ente (kind, denominazione, codice_ipa, codice_istat, codice_catastale, codice_fiscale, pec,
               regione, provincia, popolazione, popolazione_ref, unione_id)
             VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,(SELECT id FROM ente WHERE codice_ipa = $12)) RETURNING id`,
        params,
      );
      const id = (Array.isArray(rows[0]) ? rows[0][0] : rows[0])!.id;
      const after = (
        await m.query<EnteAuditData[]>(`${AUDIT_SELECT} WHERE e.codice_ipa = $1`, [e.codiceIpa])
      )[0]!;
      const changed = existing
        ? (Object.keys(after) as (keyof EnteAuditData)[]).filter(
            (k) => JSON.stringify(after[k]) !== JSON.stringify(existing[k]),
          )
        : (Object.keys(after) as (keyof EnteAuditData)[]).filter((k) => after[k] !== null);
      if (existing && changed.length === 0) return { id, op: 'unchanged' as const, changed };
      const op = existing ? ('update' as const) : ('create' as const);
      await appendRegistryEvent(m, { codiceIpa: e.codiceIpa, op, data: after, changed, actor });
      return { id, op, changed };
    });
  }

  /** Full insert or update by codice IPA (the seed command), audited like save(). Returns the id. */
  async upsert(
    e: Omit<EnteRecord, 'id' | 'unione'> & {
      unioneId: string | null;
      popolazioneRef?: string | null;
    },
    actor: RegistryActor = { subject: 'seed', role: 'system' },
  ): Promise<string> {
    const { unioneId, ...rest } = e;
    const unione = unioneId
      ? ((
          await this.ds.query<{ codice_ipa: string }[]>(
            `SELECT codice_ipa FROM ente WHERE id = $1`,
            [unioneId],
          )
        )[0]?.codice_ipa ?? null)
      : null;
    const r = await this.save({ ...rest, popolazioneRef: e.popolazioneRef ?? null, unione }, actor);
    return r.id;
  }
}

/** A change to one ente: every field but kind, denominazione and codiceIpa may be omitted (kept as stored). */
export interface EnteChange {
  kind: 'COMUNE' | 'UNIONE';
  denominazione: string;
  codiceIpa: string;
  codiceIstat?: string | null;
  codiceCatastale?: string | null;
  codiceFiscale?: string | null;
  pec?: string | null;
  regione?: string | null;
  provincia?: string | null;
  popolazione?: number | null;
  popolazioneRef?: string | null;
  /** codice IPA of the unione a comune belongs to */
  unione?: string | null;
}

const EMPTY: Omit<EnteAuditData, 'id' | 'kind' | 'denominazione' | 'codiceIpa'> = {
  codiceIstat: null,
  codiceCatastale: null,
  codiceFiscale: null,
  pec: null,
  regione: null,
  provincia: null,
  popolazione: null,
  popolazioneRef: null,
  unione: null,
};
