import { createMachine } from 'xstate';
import { pureTransition } from '../machine-support';
import type { EnteBranchState } from './rtd.types';

/**
 * Each ente's own branch of the RTD appointment: its IPA registration (DOMAIN.md §3.5 — the Unione and EVERY
 * comune served register the RTD on IPA, each on its own). A small machine of its own so it can be drawn and
 * tested; the RTD machine advances one ente's branch with `stepBranch`, never by writing a status string.
 */
export const rtdEnteMachine = createMachine({
  id: 'rtdEnte',
  initial: 'IPA_PENDING',
  states: {
    IPA_PENDING: {
      description: 'l’ente deve registrare l’RTD su IPA (termine: policy ipaDays)',
      tags: ['awaiting-ipa'],
      meta: { timers: ['ipa:<ente> (deadline, ipaDays)', 'reminder:ipa:<ente>:<n>'] },
      on: {
        'ipa.confirm': {
          target: 'IPA_REGISTERED',
          description: 'il segretario conferma la registrazione IPA',
        },
        withdraw: {
          target: 'WITHDRAWN',
          description: 'l’ente esce dalla gestione associata (recesso)',
        },
      },
    },
    IPA_REGISTERED: {
      description: 'IPA indica l’RTD in carica per questo ente',
      tags: ['served'],
      on: {
        'ipa.recheck': { target: 'RECHECK_DUE', description: 'verifica semestrale dei dati IPA' },
        'appointee.change': { target: 'IPA_PENDING', description: 'nuovo RTD: IPA va aggiornato' },
        withdraw: {
          target: 'WITHDRAWN',
          description: 'l’ente esce dalla gestione associata (recesso)',
        },
      },
    },
    RECHECK_DUE: {
      description: 'verifica semestrale: l’ente conferma che IPA è ancora corretto',
      tags: ['awaiting-ipa'],
      meta: { timers: ['ipa:<ente> (deadline, ipaDays)'] },
      on: {
        'ipa.confirm': {
          target: 'IPA_REGISTERED',
          description: 'il segretario conferma i dati IPA',
        },
        'appointee.change': { target: 'IPA_PENDING', description: 'nuovo RTD: IPA va aggiornato' },
        withdraw: {
          target: 'WITHDRAWN',
          description: 'l’ente esce dalla gestione associata (recesso)',
        },
      },
    },
    WITHDRAWN: {
      type: 'final',
      description: 'l’RTD associato non serve più l’ente: deve nominarne uno proprio',
    },
  },
});

export type BranchEvent = 'ipa.confirm' | 'ipa.recheck' | 'appointee.change' | 'withdraw';

/** the next state of one ente's branch (unchanged if the branch does not take the event) */
export function stepBranch(state: EnteBranchState, type: BranchEvent): EnteBranchState {
  const snap = rtdEnteMachine.resolveState({ value: state, context: undefined });
  const [next] = pureTransition(rtdEnteMachine, snap, { type });
  return next.value as EnteBranchState;
}
