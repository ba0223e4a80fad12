import { classifyInfraError } from './infra-errors';

/** the shapes node-postgres, pg-pool, TypeORM and ioredis give their failures */
const pg = (code: string, message = 'x') => Object.assign(new Error(message), { code });
const typeorm = (driverError: Error) =>
  Object.assign(new Error(driverError.message), { name: 'QueryFailedError', driverError });

describe('classifyInfraError', () => {
  it.each([
    [pg('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:5432'), 'ECONNREFUSED'],
    [pg('ECONNRESET'), 'ECONNRESET'],
    [pg('ETIMEDOUT'), 'ETIMEDOUT'],
    [typeorm(pg('57P01', 'terminating connection due to administrator command')), '57P01'],
    [typeorm(pg('57P03', 'the database system is starting up')), '57P03'],
    [typeorm(pg('08006')), '08006'],
    [typeorm(pg('08003')), '08003'],
    [typeorm(pg('57014', 'canceling statement due to statement timeout')), '57014'],
    [typeorm(new Error('Query read timeout')), 'Query read timeout'],
    [
      new Error('timeout exceeded when trying to connect'),
      'timeout exceeded when trying to connect',
    ],
    [new Error('Connection terminated unexpectedly'), 'Connection terminated unexpectedly'],
    [
      Object.assign(new Error('Query runner already released'), {
        name: 'QueryRunnerAlreadyReleasedError',
      }),
      'QueryRunnerAlreadyReleasedError',
    ],
  ])('%s → 503 DATABASE_UNAVAILABLE', (err, reason) => {
    expect(classifyInfraError(err)).toEqual({
      code: 'DATABASE_UNAVAILABLE',
      dependency: 'postgres',
      reason,
    });
  });

  it('a lock wait beyond lock_timeout (55P03) is a busy process, not an outage', () => {
    expect(
      classifyInfraError(typeorm(pg('55P03', 'canceling statement due to lock timeout'))),
    ).toEqual({ code: 'PROCESS_BUSY', dependency: 'postgres', reason: 'lock_timeout' });
  });

  it.each([
    new Error("Stream isn't writeable and enableOfflineQueue options is false"),
    new Error('Command timed out'),
    new Error('Connection is closed.'),
    Object.assign(new Error('Reached the max retries per request limit'), {
      name: 'MaxRetriesPerRequestError',
    }),
  ])('%s → QUEUE_UNAVAILABLE', (err) => {
    expect(classifyInfraError(err)).toMatchObject({
      code: 'QUEUE_UNAVAILABLE',
      dependency: 'redis',
    });
  });

  it.each([
    new Error('boom'),
    typeorm(pg('23505', 'duplicate key value violates unique constraint')),
    typeorm(pg('42P01', 'relation does not exist')),
    null,
    'a string',
  ])('anything else (%s) is a bug: null, answered 500', (err) => {
    expect(classifyInfraError(err)).toBeNull();
  });
});
