import {
  createHash,
  createPrivateKey,
  createPublicKey,
  sign,
  verify,
  type KeyObject,
} from 'node:crypto';
import { mkdir, readdir, readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { DataSource } from 'typeorm';
import { canonicalJson, sha256Hex } from '@app/common';
import { REGISTRY_CHAIN_ID } from '@app/persistence';

/**
 * Signed checkpoints of every audit chain's head, kept OUTSIDE the database (issue 9 item 3). The runtime
 * role cannot rewrite history, but the database operator (owner, superuser) can: edit an event, re-hash every
 * later one, move the instance head — the chain then verifies on its own. A checkpoint written before the
 * edit (and published or archived by the operator's auditors) pins each chain's seq and hash: `verify` then
 * names the chain that moved. Format (JSON, one file per checkpoint in CHECKPOINT_DIR):
 *
 *   { format: "iter-checkpoint/1", createdAt, chains: [{ chain, seq, hash }...] (sorted by chain),
 *     merkleRoot, algorithm: "Ed25519", keyId, signature }
 *
 * `chain` is a process instance id, or "ente-registry" for the ente registry's chain. merkleRoot is the
 * RFC 6962 Merkle tree hash over the leaves canonicalJson({chain, seq, hash}); the signature (Ed25519,
 * base64) covers the RFC 8785 canonical JSON of every other member. keyId = first 16 hex of sha256 of the
 * public key (SPKI DER).
 */
export const CHECKPOINT_FORMAT = 'iter-checkpoint/1';

export interface ChainHead {
  chain: string;
  seq: number;
  hash: string;
}

export interface Checkpoint {
  format: typeof CHECKPOINT_FORMAT;
  createdAt: string;
  chains: ChainHead[];
  merkleRoot: string;
  algorithm: 'Ed25519';
  keyId: string;
  signature: string;
}

/** A development-only Ed25519 key (its seed is public, here): used only when dev mode is on and no key is set. */
const DEV_SEED = createHash('sha256').update('iter-development-only-checkpoint-key').digest();
const PKCS8_ED25519_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
export const DEV_CHECKPOINT_KEY: KeyObject = createPrivateKey({
  key: Buffer.concat([PKCS8_ED25519_PREFIX, DEV_SEED]),
  format: 'der',
  type: 'pkcs8',
});

/** A PEM Ed25519 private key (PKCS#8) or a base64 32-byte seed. */
export function parsePrivateKey(text: string): KeyObject {
  const t = text.trim();
  const key = t.startsWith('-----')
    ? createPrivateKey(t)
    : createPrivateKey({
        key: Buffer.concat([PKCS8_ED25519_PREFIX, seedOf(t)]),
        format: 'der',
        type: 'pkcs8',
      });
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the checkpoint key must be Ed25519');
  return key;
}

function seedOf(b64: string): Buffer {
  const seed = Buffer.from(b64, 'base64');
  if (seed.length !== 32) throw new Error('an Ed25519 seed is 32 bytes (base64)');
  return seed;
}

/** A PEM public key (SPKI), or derived from a private key. */
export function parsePublicKey(text: string): KeyObject {
  const key = createPublicKey(text.trim());
  if (key.asymmetricKeyType !== 'ed25519') throw new Error('the checkpoint key must be Ed25519');
  return key;
}

export function keyIdOf(key: KeyObject): string {
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  return sha256Hex(pub.export({ format: 'der', type: 'spki' }).toString('base64')).slice(0, 16);
}

const leafHash = (h: ChainHead) =>
  createHash('sha256')
    .update(Buffer.from([0]))
    .update(canonicalJson({ chain: h.chain, seq: h.seq, hash: h.hash }))
    .digest();

function mth(leaves: Buffer[]): Buffer {
  if (leaves.length === 0) return createHash('sha256').digest();
  if (leaves.length === 1) return leaves[0]!;
  let k = 1;
  while (k * 2 < leaves.length) k *= 2;
  return createHash('sha256')
    .update(Buffer.from([1]))
    .update(mth(leaves.slice(0, k)))
    .update(mth(leaves.slice(k)))
    .digest();
}

/** RFC 6962 Merkle tree hash over the chain heads, sorted by chain id. */
export function merkleRoot(heads: readonly ChainHead[]): string {
  const sorted = [...heads].sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));
  return mth(sorted.map(leafHash)).toString('hex');
}

/** Every chain's last seq and hash, read from the append-only tables in one snapshot. */
export async function collectHeads(ds: DataSource): Promise<ChainHead[]> {
  const qr = ds.createQueryRunner();
  await qr.connect();
  try {
    await qr.startTransaction('REPEATABLE READ');
    // the last event of each instance's chain, by an index scan per instance (not a scan of every event);
    // the head comes from the append-only table, not from the instance row
    const rows = (await qr.query(
      `SELECT i.id::text AS chain, e.seq, e.hash FROM process_instance i
       CROSS JOIN LATERAL (SELECT seq, hash FROM process_event WHERE instance_id = i.id
                           ORDER BY seq DESC LIMIT 1) e`,
    )) as ChainHead[];
    const reg = (await qr.query(`SELECT seq, hash FROM ente_event ORDER BY seq DESC LIMIT 1`)) as {
      seq: string;
      hash: string;
    }[];
    await qr.commitTransaction();
    const heads = rows.map((r) => ({ chain: r.chain, seq: Number(r.seq), hash: r.hash }));
    if (reg[0])
      heads.push({ chain: REGISTRY_CHAIN_ID, seq: Number(reg[0].seq), hash: reg[0].hash });
    return heads.sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0));
  } catch (err) {
    await qr.rollbackTransaction().catch(() => undefined);
    throw err;
  } finally {
    await qr.release();
  }
}

const signedPart = (c: Omit<Checkpoint, 'signature'>) =>
  Buffer.from(
    canonicalJson({
      format: c.format,
      createdAt: c.createdAt,
      chains: c.chains,
      merkleRoot: c.merkleRoot,
      algorithm: c.algorithm,
      keyId: c.keyId,
    }),
    'utf8',
  );

export function signCheckpoint(heads: readonly ChainHead[], key: KeyObject, at: Date): Checkpoint {
  const body: Omit<Checkpoint, 'signature'> = {
    format: CHECKPOINT_FORMAT,
    createdAt: at.toISOString(),
    chains: [...heads].sort((a, b) => (a.chain < b.chain ? -1 : a.chain > b.chain ? 1 : 0)),
    merkleRoot: merkleRoot(heads),
    algorithm: 'Ed25519',
    keyId: keyIdOf(key),
  };
  return { ...body, signature: sign(null, signedPart(body), key).toString('base64') };
}

/** Why a checkpoint cannot be trusted, or null: format, Merkle root over its heads, signature by `key`. */
export function checkpointProblem(c: Checkpoint, key: KeyObject): string | null {
  if (c.format !== CHECKPOINT_FORMAT || !Array.isArray(c.chains))
    return 'unknown checkpoint format';
  if (merkleRoot(c.chains) !== c.merkleRoot)
    return 'the Merkle root does not match the chain heads listed';
  const pub = key.type === 'private' ? createPublicKey(key) : key;
  let ok = false;
  try {
    ok = verify(null, signedPart(c), pub, Buffer.from(c.signature, 'base64'));
  } catch {
    ok = false;
  }
  return ok ? null : `the signature does not verify with the configured key (${keyIdOf(pub)})`;
}

/** Write atomically (temporary file + rename) as checkpoint-<createdAt>.json; returns the path. */
export async function writeCheckpoint(dir: string, c: Checkpoint): Promise<string> {
  await mkdir(dir, { recursive: true });
  const name = `checkpoint-${c.createdAt.replace(/[-:.]/g, '')}.json`;
  const path = join(dir, name);
  const tmp = join(dir, `.${name}.${process.pid}.tmp`);
  await writeFile(tmp, `${JSON.stringify(c, null, 2)}\n`, { mode: 0o644 });
  await rename(tmp, path);
  return path;
}

/** The newest checkpoint file in `dir` (by name, i.e. by createdAt), or null if there is none. */
export async function readLatestCheckpoint(
  dir: string,
): Promise<{ file: string; checkpoint: Checkpoint; digest: string } | null> {
  let names: string[];
  try {
    names = await readdir(dir);
  } catch (err) {
    if ((err as { code?: string }).code === 'ENOENT') return null;
    throw err;
  }
  const latest = names
    .filter((n) => /^checkpoint-[0-9TZ]+\.json$/.test(n))
    .sort()
    .pop();
  if (!latest) return null;
  const file = join(dir, latest);
  const text = await readFile(file, 'utf8');
  return { file, checkpoint: JSON.parse(text) as Checkpoint, digest: sha256Hex(text) };
}

/** Checkpointing as configured: where, with which key (null: signing off; verifying may still work). */
export interface CheckpointConfig {
  dir: string;
  signingKey: KeyObject | null;
  verifyKey: KeyObject | null;
}

/** The result of comparing the database with the latest checkpoint. */
export interface CheckpointCheck {
  /** `absent`: no checkpoint yet (or checkpoints not configured); `untrusted`: bad signature or root */
  status: 'ok' | 'mismatch' | 'absent' | 'untrusted';
  file: string | null;
  createdAt: string | null;
  /** each chain that moved since the checkpoint, and how */
  moved: { chain: string; reason: string }[];
  problem: string | null;
}

export interface LoadedCheckpoint {
  file: string;
  checkpoint: Checkpoint;
  problem: string | null;
  heads: Map<string, ChainHead>;
}

/**
 * The latest checkpoint, checked (Merkle root, signature). Checking costs a hash per chain, so the result is
 * kept per file content (its SHA-256) and key: a file edited afterwards is checked again.
 */
export async function loadCheckpoint(cfg: CheckpointConfig): Promise<LoadedCheckpoint | null> {
  const latest = await readLatestCheckpoint(cfg.dir);
  if (!latest) return null;
  const key = `${latest.file}|${latest.digest}|${cfg.verifyKey ? keyIdOf(cfg.verifyKey) : '-'}`;
  const hit = loaded.get(key);
  if (hit) return hit;
  const out = checkLoaded(cfg, latest);
  loaded.clear();
  loaded.set(key, out);
  return out;
}

const loaded = new Map<string, LoadedCheckpoint>();

function checkLoaded(
  cfg: CheckpointConfig,
  latest: { file: string; checkpoint: Checkpoint },
): LoadedCheckpoint {
  const { file, checkpoint } = latest;
  const problem = cfg.verifyKey
    ? checkpointProblem(latest.checkpoint, cfg.verifyKey)
    : 'no key configured to verify checkpoints: set CHECKPOINT_PUBLIC_KEY (or CHECKPOINT_PRIVATE_KEY), or CHECKPOINT_DEV_KEY=true for checkpoints written by `npm start` in development';
  return {
    file,
    checkpoint,
    problem,
    heads: new Map((checkpoint.chains ?? []).map((h) => [h.chain, h])),
  };
}

/**
 * How one chain compares with the checkpoint: null when it still holds the checkpointed event (same hash at
 * the checkpointed seq), else what moved. `hashAt(seq)` gives the chain's stored hash at seq (undefined if
 * there is no such event); `length` the number of events (0: the chain is missing).
 */
export function chainMoved(
  head: ChainHead | undefined,
  length: number,
  hashAt: (seq: number) => string | undefined,
): string | null {
  if (!head) return null;
  if (length === 0) return `chain missing (the checkpoint has it at seq ${head.seq})`;
  if (length < head.seq)
    return `chain shorter than the checkpoint: ${length} events, checkpointed at seq ${head.seq}`;
  const h = hashAt(head.seq);
  if (h !== head.hash) return `hash at checkpointed seq ${head.seq} differs from the checkpoint`;
  return null;
}

export function checkOf(
  loaded: LoadedCheckpoint | null,
  moved: { chain: string; reason: string }[],
): CheckpointCheck {
  if (!loaded) return { status: 'absent', file: null, createdAt: null, moved: [], problem: null };
  const base = { file: loaded.file, createdAt: loaded.checkpoint.createdAt ?? null };
  if (loaded.problem) return { ...base, status: 'untrusted', moved: [], problem: loaded.problem };
  return { ...base, status: moved.length ? 'mismatch' : 'ok', moved, problem: null };
}

/** Collect, sign and write a checkpoint unless the heads are those of the latest one. */
export async function writeCheckpointNow(
  ds: DataSource,
  cfg: CheckpointConfig,
  now: Date,
  opts: { force?: boolean } = {},
): Promise<{ file: string; checkpoint: Checkpoint; written: boolean }> {
  if (!cfg.signingKey) throw new Error('no checkpoint signing key (CHECKPOINT_PRIVATE_KEY)');
  const heads = await collectHeads(ds);
  const latest = await readLatestCheckpoint(cfg.dir).catch(() => null);
  if (!opts.force && latest && latest.checkpoint.merkleRoot === merkleRoot(heads))
    return { ...latest, written: false };
  const cp = signCheckpoint(heads, cfg.signingKey, now);
  return { file: await writeCheckpoint(cfg.dir, cp), checkpoint: cp, written: true };
}

/**
 * The checkpoint settings of a configuration. The signing key is CHECKPOINT_PRIVATE_KEY; without one, only in
 * dev mode (CHECKPOINT_DEV_KEY=true, never with NODE_ENV=production), the development key, whose seed is public.
 * The verifying key is CHECKPOINT_PUBLIC_KEY, else the one derived from the signing key.
 */
export function checkpointConfigFrom(config: {
  nodeEnv: string;
  checkpointDir: string;
  checkpointPrivateKey: string | null;
  checkpointPublicKey: string | null;
  checkpointDevKey: boolean;
}): CheckpointConfig & { devKey: boolean } {
  const devMode = config.checkpointDevKey && config.nodeEnv !== 'production';
  let signingKey: KeyObject | null = null;
  let devKey = false;
  if (config.checkpointPrivateKey) signingKey = parsePrivateKey(config.checkpointPrivateKey);
  else if (devMode) {
    signingKey = DEV_CHECKPOINT_KEY;
    devKey = true;
  }
  const verifyKey = config.checkpointPublicKey
    ? parsePublicKey(config.checkpointPublicKey)
    : signingKey
      ? createPublicKey(signingKey)
      : null;
  return { dir: config.checkpointDir, signingKey, verifyKey, devKey };
}
