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
    description: 'è congelata una nuova versione del testo: ogni consiglio delibera di nuovo',
  },
  recede: { target: 'RECEDUTO', description: 'il suo recesso diventa efficace' },
} as const;

/** What a council awaited (invited or convened) can come to: its vote, a postponement, its term lapsing. */
const COUNCIL_OUTCOMES = {
  approve: { target: 'APPROVED', description: 'il consiglio approva il testo congelato' },
  approveImmediatelyExecutive: {
    target: 'EXECUTIVE',
    description: 'approvata e dichiarata immediatamente eseguibile (art. 134 c.4 TUEL)',
  },
  approveWithAmendments: {
    target: 'APPROVED_WITH_AMENDMENTS',
    description: 'approvata con emendamenti: decide il gruppo di lavoro',
  },
  reject: { target: 'REJECTED', description: 'il consiglio respinge la convenzione' },
  postpone: { target: 'INVITED', description: 'rinviata o seduta deserta: da riconvocare' },
  lapse: { target: 'NON_ADERENTE', description: 'termine scaduto due volte: resta fuori' },
  ...NEW_TEXT,
} as const;

export const enteProgressMachine = createMachine({
  id: 'ente',
  initial: 'INVITED',
  description: 'L’avanzamento di un ente nella convenzione (DOMAIN.md §2.4)',
  states: {
    INVITED: {
      description: 'il testo è stato trasmesso: il consiglio deve deliberare entro il termine',
      tags: ['awaiting-council', 'pending'],
      on: {
        convene: { target: 'COUNCIL_CONVENED', description: 'il consiglio è convocato' },
        ...COUNCIL_OUTCOMES,
      },
    },
    COUNCIL_CONVENED: {
      description: 'il consiglio è convocato per una seduta',
      tags: ['awaiting-council', 'pending'],
      on: {
        convene: { target: 'COUNCIL_CONVENED', description: 'convocato di nuovo (nuova seduta)' },
        ...COUNCIL_OUTCOMES,
      },
    },
    APPROVED: {
      description:
        'approvata: pubblicata all’albo, in attesa di diventare esecutiva (art. 134 c.3 TUEL)',
      tags: ['awaiting-executivity', 'pending'],
      on: {
        certifyExecutivity: {
          target: 'EXECUTIVE',
          description: 'il segretario attesta l’esecutività',
        },
        ...NEW_TEXT,
      },
    },
    APPROVED_WITH_AMENDMENTS: {
      description:
        'ha approvato un testo diverso: il gruppo di lavoro accoglie o respinge l’emendamento',
      tags: ['awaiting-working-group'],
      on: {
        newTextAsAmended: {
          target: 'APPROVED',
          description: 'il testo congelato è quello approvato da questo consiglio',
        },
        amendmentRefused: {
          target: 'INVITED',
          description: 'l’emendamento è respinto: deliberare di nuovo sul testo vigente',
        },
        ...NEW_TEXT,
      },
    },
    EXECUTIVE: {
      description:
        'la sua delibera è esecutiva: pronto alla firma (un comune che aderisce: da ammettere)',
      tags: ['awaiting-signature'],
      on: {
        sign: {
          target: 'SIGNED',
          description: 'firmata digitalmente (art. 15 c.2-bis L. 241/1990)',
        },
        admit: { target: 'ADMITTED', description: 'la Giunta dell’Unione accoglie l’adesione' },
        ...NEW_TEXT,
      },
    },
    ADMITTED: {
      description: 'comune aderente ammesso dalla Giunta: firma l’addendum',
      tags: ['awaiting-signature'],
      on: {
        sign: { target: 'SIGNED', description: 'firma digitalmente l’addendum' },
        ...NEW_TEXT,
      },
    },
    SIGNED: {
      description: 'ha firmato: partecipa alla convenzione',
      tags: ['participant'],
      on: { ...NEW_TEXT },
    },
    REJECTED: {
      description: 'il suo consiglio ha respinto la convenzione (QUORUM: resta fuori)',
      tags: ['out'],
      on: { rejoin: { target: 'INVITED', description: 'chiede di aderire in seguito (adesione)' } },
    },
    NON_ADERENTE: {
      description: 'non ha deliberato in tempo: resta fuori, deve nominare un proprio RTD',
      tags: ['out'],
      on: { rejoin: { target: 'INVITED', description: 'chiede di aderire in seguito (adesione)' } },
    },
    RECEDUTO: {
      description: 'il recesso è efficace: è fuori, deve nominare un proprio RTD',
      tags: ['out'],
      on: { rejoin: { target: 'INVITED', description: 'chiede di aderire in seguito (adesione)' } },
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
