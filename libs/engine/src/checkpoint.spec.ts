import { createHash, generateKeyPairSync } from 'node:crypto';
import {
  chainMoved,
  checkpointConfigFrom,
  checkpointProblem,
  DEV_CHECKPOINT_KEY,
  keyIdOf,
  merkleRoot,
  parsePrivateKey,
  signCheckpoint,
  type ChainHead,
} from './checkpoint';

const head = (chain: string, seq: number): ChainHead => ({
  chain,
  seq,
  hash: createHash('sha256').update(`${chain}/${seq}`).digest('hex'),
});
const heads = ['a', 'b', 'c', 'd', 'e'].map((c, i) => head(c, i + 1));
const sha = (...parts: Buffer[]) => {
  const h = createHash('sha256');
  for (const p of parts) h.update(p);
  return h.digest();
};
const leaf = (h: ChainHead) =>
  sha(Buffer.from([0]), Buffer.from(JSON.stringify({ chain: h.chain, hash: h.hash, seq: h.seq })));
const node = (l: Buffer, r: Buffer) => sha(Buffer.from([1]), l, r);

describe('checkpoints', () => {
  it('computes the RFC 6962 Merkle tree hash over the heads, in chain order', () => {
    expect(merkleRoot([])).toBe(createHash('sha256').digest('hex'));
    expect(merkleRoot([heads[0]!])).toBe(leaf(heads[0]!).toString('hex'));
    const [a, b, c] = heads.map(leaf) as [Buffer, Buffer, Buffer];
    // three leaves: the left subtree holds the largest power of two (2) below 3
    expect(merkleRoot(heads.slice(0, 3))).toBe(node(node(a, b), c).toString('hex'));
    // the order given does not matter, every head does
    expect(merkleRoot([...heads].reverse())).toBe(merkleRoot(heads));
    expect(merkleRoot(heads.map((x, i) => (i === 3 ? { ...x, seq: 5 } : x)))).not.toBe(
      merkleRoot(heads),
    );
  });

  it('signs with Ed25519 and refuses an edited head, another key or a bad root', () => {
    const cp = signCheckpoint(heads, DEV_CHECKPOINT_KEY, new Date('2026-03-01T10:00:00Z'));
    expect(cp).toMatchObject({
      format: 'iter-checkpoint/1',
      algorithm: 'Ed25519',
      keyId: keyIdOf(DEV_CHECKPOINT_KEY),
    });
    expect(checkpointProblem(cp, DEV_CHECKPOINT_KEY)).toBeNull();
    const edited = { ...cp, chains: cp.chains.map((c, i) => (i ? c : { ...c, seq: 99 })) };
    expect(checkpointProblem(edited, DEV_CHECKPOINT_KEY)).toMatch(/Merkle root/);
    const rerooted = { ...edited, merkleRoot: merkleRoot(edited.chains) };
    expect(checkpointProblem(rerooted, DEV_CHECKPOINT_KEY)).toMatch(/signature/);
    const other = generateKeyPairSync('ed25519').privateKey;
    expect(checkpointProblem(signCheckpoint(heads, other, new Date()), DEV_CHECKPOINT_KEY)).toMatch(
      /signature does not verify/,
    );
  });

  it('names what moved: nothing, a chain missing, shorter, or another hash at the checkpointed seq', () => {
    const h = head('x', 3);
    const hashes = ['h1', 'h2', h.hash, 'h4'];
    expect(chainMoved(h, 4, (s) => hashes[s - 1])).toBeNull(); // grew: fine
    expect(chainMoved(undefined, 0, () => undefined)).toBeNull(); // not checkpointed yet
    expect(chainMoved(h, 0, () => undefined)).toMatch(/^chain missing/);
    expect(chainMoved(h, 2, (s) => hashes[s - 1])).toMatch(/^chain shorter than the checkpoint/);
    expect(chainMoved(h, 4, () => 'other')).toBe(
      'hash at checkpointed seq 3 differs from the checkpoint',
    );
  });

  it('uses the development key only in dev mode; a configured key (PEM or base64 seed) otherwise', () => {
    const base = { checkpointDir: 'x', checkpointPublicKey: null, checkpointDevKey: true };
    expect(
      checkpointConfigFrom({ ...base, nodeEnv: 'development', checkpointPrivateKey: null }),
    ).toMatchObject({ devKey: true });
    expect(
      checkpointConfigFrom({
        ...base,
        checkpointDevKey: false,
        nodeEnv: 'development',
        checkpointPrivateKey: null,
      }),
    ).toMatchObject({ devKey: false, signingKey: null });
    expect(
      checkpointConfigFrom({ ...base, nodeEnv: 'production', checkpointPrivateKey: null }),
    ).toMatchObject({ devKey: false, signingKey: null, verifyKey: null });
    const pem = generateKeyPairSync('ed25519')
      .privateKey.export({ format: 'pem', type: 'pkcs8' })
      .toString();
    const cfg = checkpointConfigFrom({ ...base, nodeEnv: 'production', checkpointPrivateKey: pem });
    expect(cfg.devKey).toBe(false);
    expect(keyIdOf(cfg.signingKey!)).toBe(keyIdOf(parsePrivateKey(pem)));
    const seed = Buffer.alloc(32, 7).toString('base64');
    expect(parsePrivateKey(seed).asymmetricKeyType).toBe('ed25519');
    expect(() => parsePrivateKey('c2hvcnQ=')).toThrow(/32 bytes/);
  });
});
