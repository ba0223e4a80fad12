import type { DataSource } from 'typeorm';

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

  /** Insert or update by codice IPA; returns the id. Used by the seed command. */
  async upsert(
    e: Omit<EnteRecord, 'id' | 'unione'> & {
      unioneId: string | null;
      popolazioneRef?: string | null;
    },
  ): Promise<string> {
    const rows: { id: string }[] = await this.ds.query(
      `INSERT INTO ente (kind, denominazione, codice_ipa, codice_istat, codice_catastale, codice_fiscale, pec, regione,
                         provincia, popolazione, popolazione_ref, unione_id)
       VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10,$11,$12)
       ON CONFLICT (codice_ipa) DO UPDATE SET kind = EXCLUDED.kind, denominazione = EXCLUDED.denominazione,
         codice_istat = EXCLUDED.codice_istat, codice_catastale = EXCLUDED.codice_catastale,
         codice_fiscale = EXCLUDED.codice_fiscale, pec = EXCLUDED.pec, regione = EXCLUDED.regione,
         provincia = EXCLUDED.provincia, popolazione = EXCLUDED.popolazione,
         popolazione_ref = EXCLUDED.popolazione_ref, unione_id = EXCLUDED.unione_id, updated_at = now()
       RETURNING id`,
      [
        e.kind,
        e.denominazione,
        e.codiceIpa,
        e.codiceIstat,
        e.codiceCatastale,
        e.codiceFiscale,
        e.pec,
        e.regione,
        e.provincia,
        e.popolazione,
        e.popolazioneRef ?? null,
        e.unioneId,
      ],
    );
    return rows[0]!.id;
  }
}
