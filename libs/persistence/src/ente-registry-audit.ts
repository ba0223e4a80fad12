import type { DataSource, EntityManager } from 'typeorm';
import { canonicalJson, sha256Hex } from '@app/common';

/**
 * The ente registry's audit chain (table ente_event): every change of an ente (POST /v1/entes, the seed) is
 * appended in the same transaction as the change, hash-chained like process_event (RFC 8785 canonical JSON,
 * sha256 over the previous hash), append-only in the database. The registry feeds authorization (the kind of
 * an ente, the unione it belongs to) and the quorum (popolazione), so its history must be as provable as a
 * process's. `verifyRegistryChain` recomputes the chain and checks that every ente row is the one its last
 * audited event says.
 */
export const REGISTRY_CHAIN_ID = 'ente-registry';
export const REGISTRY_GENESIS_HASH = '0'.repeat(64);
/** serialises appends to the one registry chain (transaction-scoped advisory lock) */
const REGISTRY_LOCK = 7_317_002;

/** The audited form of an ente: every column but the timestamps, the unione by its codice IPA. */
export interface EnteAuditData {
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
  popolazioneRef: string | null;
  unione: string | null;
}

export const AUDIT_SELECT = `SELECT e.id, e.kind, e.denominazione, e.codice_ipa AS "codiceIpa",
  e.codice_istat AS "codiceIstat", e.codice_catastale AS "codiceCatastale", e.codice_fiscale AS "codiceFiscale",
  e.pec, e.regione, e.provincia, e.popolazione, e.popolazione_ref AS "popolazioneRef", u.codice_ipa AS unione
  FROM ente e LEFT JOIN ente u ON u.id = e.unione_id`;

export interface RegistryActor {
  subject: string;
  role: string;
}

export interface RegistryEventFields {
  seq: number;
  codiceIpa: string;
  op: 'baseline' | 'create' | 'update';
  data: EnteAuditData;
  changed: string[];
  actor: RegistryActor;
  recordedAt: string;
}

export function registryEventHash(prevHash: string, e: RegistryEventFields): string {
  return sha256Hex(
    `${prevHash}\n${canonicalJson({ chain: REGISTRY_CHAIN_ID, hashVersion: 2, ...e })}`,
  );
}

/** Append one event to the registry chain. Call inside the transaction that changed the ente. */
export async function appendRegistryEvent(
  m: EntityManager,
  e: Omit<RegistryEventFields, 'seq' | 'recordedAt'>,
): Promise<void> {
  await m.query(`SELECT pg_advisory_xact_lock($1)`, [REGISTRY_LOCK]);
  const head = await m.query<{ now: Date; head: { seq: number; hash: string } | null }[]>(
    `SELECT clock_timestamp() AS now, (SELECT json_build_object('seq', seq, 'hash', hash) FROM ente_event
       ORDER BY seq DESC LIMIT 1) AS head`,
  );
  const prev = head[0]!.head;
  const fields: RegistryEventFields = {
    ...e,
    seq: Number(prev?.seq ?? 0) + 1,
    recordedAt: head[0]!.now.toISOString(),
  };
  const prevHash = prev?.hash ?? REGISTRY_GENESIS_HASH;
  await m.query(
    `INSERT INTO ente_event (seq, codice_ipa, op, data, changed, actor_subject, actor_role, recorded_at, prev_hash, hash)
     VALUES ($1,$2,$3,$4,$5,$6,$7,$8,$9,$10)`,
    [
      fields.seq,
      fields.codiceIpa,
      fields.op,
      fields.data,
      fields.changed,
      fields.actor.subject,
      fields.actor.role,
      fields.recordedAt,
      prevHash,
      registryEventHash(prevHash, fields),
    ],
  );
}

/**
 * When the chain is adopted on a database that already has entes (an upgrade), record each of them once as a
 * `baseline` event, so later changes have something to chain to. Does nothing once the chain has events.
 */
export async function baselineRegistry(ds: DataSource): Promise<number> {
  return ds.transaction(async (m) => {
    await m.query(`SELECT pg_advisory_xact_lock($1)`, [REGISTRY_LOCK]);
    const any = await m.query<unknown[]>(`SELECT 1 FROM ente_event LIMIT 1`);
    if (any.length) return 0;
    const rows = await m.query<EnteAuditData[]>(
      `${AUDIT_SELECT} ORDER BY e.created_at, e.codice_ipa`,
    );
    for (const data of rows) {
      await appendRegistryEvent(m, {
        codiceIpa: data.codiceIpa,
        op: 'baseline',
        data,
        changed: [],
        actor: { subject: 'migration', role: 'system' },
      });
    }
    return rows.length;
  });
}

export interface RegistryVerifyResult {
  valid: boolean;
  events: number;
  /** the last seq and hash that verified (the chain head when valid) */
  lastSeq: number;
  lastHash: string;
  /** what is wrong, in the order found */
  problems: { seq: number | null; ente: string | null; reason: string }[];
  /** every stored event's hash by seq (for the checkpoint comparison; not serialised) */
  hashes: Map<number, string>;
}

interface EnteEventRow {
  seq: string | number;
  codice_ipa: string;
  op: 'baseline' | 'create' | 'update';
  data: EnteAuditData;
  changed: string[];
  actor_subject: string;
  actor_role: string;
  recorded_at: Date;
  prev_hash: string;
  hash: string;
}

/**
 * Recompute the registry chain (one REPEATABLE READ snapshot) and compare every ente row with the data of its
 * last audited event: an ente changed, added or removed by SQL is named, as is any edited event.
 */
export async function verifyRegistryChain(ds: DataSource): Promise<RegistryVerifyResult> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  let events: EnteEventRow[];
  let entes: EnteAuditData[];
  try {
    await qr.startTransaction('REPEATABLE READ');
    events = (await qr.query(
      `SELECT seq, codice_ipa, op, data, changed, actor_subject, actor_role, recorded_at, prev_hash, hash
       FROM ente_event ORDER BY seq`,
    )) as EnteEventRow[];
    entes = (await qr.query(`${AUDIT_SELECT} ORDER BY e.codice_ipa`)) as EnteAuditData[];
    await qr.commitTransaction();
  } catch (err) {
    await qr.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    await qr.release();
  }
  const problems: RegistryVerifyResult['problems'] = [];
  let prev = REGISTRY_GENESIS_HASH;
  let lastSeq = 0;
  let broken = false;
  const latest = new Map<string, EnteAuditData>();
  const hashes = new Map<number, string>();
  for (const r of events) {
    const seq = Number(r.seq);
    hashes.set(seq, r.hash);
    latest.set(r.codice_ipa, r.data);
    if (broken) continue;
    if (seq !== lastSeq + 1) {
      problems.push({ seq: lastSeq + 1, ente: null, reason: `seq ${lastSeq + 1} missing` });
      broken = true;
      continue;
    }
    if (r.prev_hash !== prev) {
      problems.push({ seq, ente: r.codice_ipa, reason: 'prev_hash does not link' });
      broken = true;
      continue;
    }
    const h = registryEventHash(prev, {
      seq,
      codiceIpa: r.codice_ipa,
      op: r.op,
      data: r.data,
      changed: r.changed,
      actor: { subject: r.actor_subject, role: r.actor_role },
      recordedAt: r.recorded_at.toISOString(),
    });
    if (h !== r.hash) {
      problems.push({ seq, ente: r.codice_ipa, reason: 'hash does not match the event content' });
      broken = true;
      continue;
    }
    prev = r.hash;
    lastSeq = seq;
  }
  const current = new Map(entes.map((e) => [e.codiceIpa, e]));
  for (const [code, data] of latest) {
    const now = current.get(code);
    if (!now) problems.push({ seq: null, ente: code, reason: 'ente removed outside the registry' });
    else if (canonicalJson(now) !== canonicalJson(data))
      problems.push({
        seq: null,
        ente: code,
        reason: `ente differs from its last audited record (${diffKeys(data, now).join(', ')})`,
      });
  }
  for (const code of current.keys()) {
    if (!latest.has(code))
      problems.push({ seq: null, ente: code, reason: 'ente has no audit record' });
  }
  const result = {
    valid: problems.length === 0,
    events: events.length,
    lastSeq,
    lastHash: prev,
    problems,
  } as RegistryVerifyResult;
  // not enumerable: left out of the JSON summary (`verify-audit --json`)
  Object.defineProperty(result, 'hashes', { value: hashes, enumerable: false });
  return result;
}

function diffKeys(a: EnteAuditData, b: EnteAuditData): string[] {
  const keys = new Set([...Object.keys(a), ...Object.keys(b)]);
  return [...keys].filter(
    (k) =>
      canonicalJson((a as unknown as Record<string, unknown>)[k] ?? null) !==
      canonicalJson((b as unknown as Record<string, unknown>)[k] ?? null),
  );
}
