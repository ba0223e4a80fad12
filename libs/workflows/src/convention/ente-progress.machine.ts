import { createMachine } from 'xstate';
import { pureTransition } from '../machine-support';
import type { EnteStatus } from './convention.types';

/**
 * One ente's progress through the convention (DOMAIN.md §2.4) as a machine a visualiser can draw (Stately,
 * `@xstate/graph`): invited → convened → approved → executive → (admitted, late adhesion) → signed, or
 * rinviata/seduta deserta (back to invited), rejected, non aderente, receduto.
 *
 * The convention machine keeps one row per ente in its context (the number of entes is data, not a fixed set
 * of parallel regions) and never writes a status string itself: every change of `EnteProgress.status` goes
 * through `enteStep` below, i.e. through this machine's transitions. A step this machine does not have throws,
 * so the diagram is exactly what the code can do.
 */
export const ENTE_STEPS = [
  'convene',
  'approve',
  'approveImmediatelyExecutive',
  'approveWithAmendments',
  'reject',
  'postpone',
  'certifyExecutivity',
  'admit',
  'sign',
  'lapse',
  'recede',
  'newText',
  'newTextAsAmended',
  'amendmentRefused',
  'rejoin',
] as const;
export type EnteStep = (typeof ENTE_STEPS)[number];

/** steps that restart an ente's path on a new text version (any state that still takes part) */
const NEW_TEXT = {
  newText: {
    target: 'INVITED',
    description: 'a new text version is frozen: every council deliberates again',
  },
  recede: { target: 'RECEDUTO', description: 'its recesso takes effect' },
} as const;

/** What a council awaited (invited or convened) can come to: its vote, a postponement, its term lapsing. */
const COUNCIL_OUTCOMES = {
  approve: { target: 'APPROVED', description: 'the council approves the frozen text' },
  approveImmediatelyExecutive: {
    target: 'EXECUTIVE',
    description: 'approved and declared immediatamente eseguibile (art. 134 c.4 TUEL)',
  },
  approveWithAmendments: {
    target: 'APPROVED_WITH_AMENDMENTS',
    description: 'approved with amendments: the working group decides',
  },
  reject: { target: 'REJECTED', description: 'the council rejects the convention' },
  postpone: { target: 'INVITED', description: 'rinviata or seduta deserta: convened again' },
  lapse: { target: 'NON_ADERENTE', description: 'its term passed twice: outside' },
  ...NEW_TEXT,
} as const;

export const enteProgressMachine = createMachine({
  id: 'ente',
  initial: 'INVITED',
  description: "One ente's progress through the convention (DOMAIN.md §2.4)",
  states: {
    INVITED: {
      description: 'the text was sent: the council must deliberate within its term',
      tags: ['awaiting-council', 'pending'],
      on: {
        convene: { target: 'COUNCIL_CONVENED', description: 'the council is convened' },
        ...COUNCIL_OUTCOMES,
      },
    },
    COUNCIL_CONVENED: {
      description: 'the council is convened for a session',
      tags: ['awaiting-council', 'pending'],
      on: {
        convene: { target: 'COUNCIL_CONVENED', description: 'convened again (new session)' },
        ...COUNCIL_OUTCOMES,
      },
    },
    APPROVED: {
      description:
        'approved: published on the albo, waiting to become executive (art. 134 c.3 TUEL)',
      tags: ['awaiting-executivity', 'pending'],
      on: {
        certifyExecutivity: {
          target: 'EXECUTIVE',
          description: 'the segretario certifies the executivity',
        },
        ...NEW_TEXT,
      },
    },
    APPROVED_WITH_AMENDMENTS: {
      description: 'approved a different text: the working group accepts or refuses the amendment',
      tags: ['awaiting-working-group'],
      on: {
        newTextAsAmended: {
          target: 'APPROVED',
          description: 'the text frozen is the one this council approved',
        },
        amendmentRefused: {
          target: 'INVITED',
          description: 'the amendment is refused: deliberate again on the text in force',
        },
        ...NEW_TEXT,
      },
    },
    EXECUTIVE: {
      description:
        'its deliberation is executive: ready to sign (a joining comune: to be admitted)',
      tags: ['awaiting-signature'],
      on: {
        sign: { target: 'SIGNED', description: 'signed digitally (art. 15 c.2-bis L. 241/1990)' },
        admit: { target: 'ADMITTED', description: "the Giunta dell'Unione accepts the adhesion" },
        ...NEW_TEXT,
      },
    },
    ADMITTED: {
      description: 'a joining comune admitted by the Giunta: signs the addendum',
      tags: ['awaiting-signature'],
      on: {
        sign: { target: 'SIGNED', description: 'signs the addendum digitally' },
        ...NEW_TEXT,
      },
    },
    SIGNED: {
      description: 'signed: takes part in the convention',
      tags: ['participant'],
      on: { ...NEW_TEXT },
    },
    REJECTED: {
      description: 'its council rejected the convention (QUORUM: it stays out)',
      tags: ['out'],
      on: { rejoin: { target: 'INVITED', description: 'asks to join later (adesione)' } },
    },
    NON_ADERENTE: {
      description: 'did not deliberate in time: outside, must appoint its own RTD',
      tags: ['out'],
      on: { rejoin: { target: 'INVITED', description: 'asks to join later (adesione)' } },
    },
    RECEDUTO: {
      description: 'its recesso took effect: outside, must appoint its own RTD',
      tags: ['out'],
      on: { rejoin: { target: 'INVITED', description: 'asks to join later (adesione)' } },
    },
  },
});

/** where every ente starts */
export const ENTE_INITIAL = enteProgressMachine.config.initial as EnteStatus;

/** The status after one step of an ente's progress; throws if the diagram has no such transition. */
export function enteStep(status: EnteStatus, step: EnteStep): EnteStatus {
  const from = enteProgressMachine.resolveState({ value: status, context: {} });
  if (!from.can({ type: step })) throw new Error(`ente progress: no step ${step} from ${status}`);
  const [next] = pureTransition(enteProgressMachine, from, { type: step });
  return next.value as EnteStatus;
}
