import { conventionMachine, rtdEnteMachine, rtdMachine } from '@app/workflows';
import { TEMPLATES } from '@app/notifications';
import {
  ENTE_STATUS_LABELS,
  STATE_LABELS,
  TEMPLATE_LABELS,
} from '../../apps/console/src/lib/labels';

/** every state of the convention and RTD machines (and each ente’s RTD branch) and every notification template has an Italian label in the console */
const stateNames = (n: { states?: Record<string, unknown> }): string[] =>
  Object.entries(n.states ?? {}).flatMap(([k, v]) => [
    k,
    ...stateNames(v as { states?: Record<string, unknown> }),
  ]);

describe('console state labels', () => {
  it('every state of the convention and RTD machines, and every ente branch of the RTD', () => {
    const names = [
      ...stateNames(conventionMachine.config),
      ...stateNames(rtdMachine.config),
      ...stateNames(rtdEnteMachine.config),
    ];
    expect(names.length).toBeGreaterThan(20);
    expect(names.filter((s) => !STATE_LABELS[s] && !ENTE_STATUS_LABELS[s])).toEqual([]);
  });

  it('every notification template has an Italian line in Notifiche', () => {
    const missing = Object.keys(TEMPLATES).filter((t) => !TEMPLATE_LABELS[t]);
    expect(Object.keys(TEMPLATES).length).toBeGreaterThan(20);
    expect(missing).toEqual([]);
  });
});
