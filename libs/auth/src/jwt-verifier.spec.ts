import { JwtVerifier, mintDevToken } from './jwt-verifier';

const SECRET = 'a development secret of at least thirty-two characters';
const ISSUER = 'iter-test';
const AUDIENCE = 'iter-api';

const mint = (sub: string, ttl = '1h') =>
  mintDevToken(SECRET, { sub, roles: ['segretario'], ente: 'c_g843', unione: 'u_valdera' }, ttl, {
    issuer: ISSUER,
    audience: AUDIENCE,
  });

/** a verifier whose cache reads the clock `now` (ms), and the count of full verifications it made */
function verifier(opts: { cacheTtlMs?: number; cacheMaxEntries?: number } = {}) {
  const clock = { now: Date.now() };
  const v = new JwtVerifier({
    secret: SECRET,
    jwksUrl: null,
    issuer: ISSUER,
    audience: AUDIENCE,
    now: () => clock.now,
    ...opts,
  });
  const full = jest.spyOn(
    v as unknown as { verifyNow: (t: string) => Promise<unknown> },
    'verifyNow',
  );
  return { v, clock, full };
}

describe('JwtVerifier: verified tokens remembered briefly', () => {
  it('verifies a token once, then answers the same actor from memory until the ttl', async () => {
    const { v, clock, full } = verifier({ cacheTtlMs: 60_000 });
    const token = await mint('anna');
    const first = await v.verify(token);
    const second = await v.verify(token);
    expect(second).toEqual(first);
    expect(first).toMatchObject({ subject: 'anna', roles: ['segretario'], ente: 'c_g843' });
    expect(full).toHaveBeenCalledTimes(1);

    clock.now += 60_000;
    await v.verify(token);
    expect(full).toHaveBeenCalledTimes(2);
  });

  it('never remembers a token past its exp, however long the ttl', async () => {
    const { v, clock, full } = verifier({ cacheTtlMs: 3_600_000 });
    const token = await mint('bruno', '2 minutes');
    const exp = JSON.parse(Buffer.from(token.split('.')[1]!, 'base64url').toString()) as {
      exp: number;
    };
    await v.verify(token);
    clock.now = exp.exp * 1000 - 1;
    await v.verify(token);
    expect(full).toHaveBeenCalledTimes(1);
    clock.now = exp.exp * 1000;
    await v.verify(token);
    expect(full).toHaveBeenCalledTimes(2);
  });

  it('remembers no refusal: a bad token is checked (and refused) every time', async () => {
    const { v, full } = verifier();
    const token = await mint('carla');
    const forged = `${token.slice(0, -4)}AAAA`;
    await expect(v.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    await expect(v.verify(forged)).rejects.toMatchObject({ code: 'UNAUTHENTICATED' });
    expect(full).toHaveBeenCalledTimes(2);
  });

  it('holds at most cacheMaxEntries tokens, dropping the oldest', async () => {
    const { v, full } = verifier({ cacheMaxEntries: 2 });
    const [a, b, c] = await Promise.all([mint('a'), mint('b'), mint('c')]);
    for (const t of [a, b, c]) await v.verify(t);
    expect(full).toHaveBeenCalledTimes(3);
    await v.verify(c);
    await v.verify(b);
    expect(full).toHaveBeenCalledTimes(3);
    await v.verify(a); // dropped when c came in
    expect(full).toHaveBeenCalledTimes(4);
  });

  it('a caller changing the actor it got does not change what the next request gets', async () => {
    const { v } = verifier();
    const token = await mint('dario');
    const first = await v.verify(token);
    first.roles.push('presidente');
    (first as { ente: string | null }).ente = 'c_other';
    expect(await v.verify(token)).toMatchObject({ roles: ['segretario'], ente: 'c_g843' });
  });

  it('with cacheTtlMs 0 every request is verified in full', async () => {
    const { v, full } = verifier({ cacheTtlMs: 0 });
    const token = await mint('elena');
    await v.verify(token);
    await v.verify(token);
    expect(full).toHaveBeenCalledTimes(2);
  });
});
