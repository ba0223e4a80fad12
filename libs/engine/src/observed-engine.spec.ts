import { ForbiddenError, VersionConflictError } from '@app/common';
import { outcomeOf } from './observed-engine';

describe('outcomeOf', () => {
  it('labels a refusal with its stable code, an infrastructure failure as the API answers it', () => {
    expect(outcomeOf(new ForbiddenError('no'))).toBe('FORBIDDEN');
    expect(outcomeOf(new VersionConflictError(1, 2))).toBe('VERSION_CONFLICT');
    // lock_timeout: the driver's raw code never becomes a label
    expect(
      outcomeOf(
        Object.assign(new Error('canceling statement due to lock timeout'), { code: '55P03' }),
      ),
    ).toBe('PROCESS_BUSY');
    expect(outcomeOf(new Error('boom'))).toBe('error');
    expect(outcomeOf(Object.assign(new Error('x'), { code: 'lower-case code' }))).toBe('error');
  });
});
