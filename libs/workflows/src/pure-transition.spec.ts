/**
 * pureTransition (machine-support.ts) is XState's `transition()` with one inert actor scope per machine instead
 * of a new one per call. These tests hold it to `transition()` itself: on every state of the convention's
 * approval and later-life graphs (the graph the machine spec explores) with every event the graph sends there,
 * and on every state × event of the two small machines, both give the same next snapshot (the very same object
 * when nothing happens) and the same actions, in the same order; calls in between leave nothing behind.
 */
import 'reflect-metadata';
import { getShortestPaths } from '@xstate/graph';
import {
  transition,
  type AnyMachineSnapshot,
  type AnyStateMachine,
  type EventObject,
} from 'xstate';
import { G_INPUT, graphEvents, lifeEvents } from '../../../test/factories/convention-graph.factory';
import { conventionStateLabel } from './convention/convention.definition';
import { conventionMachine } from './convention/convention.machine';
import { enteProgressMachine, ENTE_STEPS } from './convention/ente-progress.machine';
import { ENTE_STATUSES } from './convention/convention.types';
import { pureTransition } from './machine-support';
import { rtdGraphEvents, rtdGraphPaths } from '../../../test/factories/rtd-graph.factory';
import { rtdEnteMachine } from './rtd/rtd.ente.machine';
import { rtdMachine } from './rtd/rtd.machine';

type Outcome = { same: boolean; snapshot: unknown; actions: unknown };

function outcome(
  step: (
    m: AnyStateMachine,
    s: AnyMachineSnapshot,
    e: EventObject,
  ) => [AnyMachineSnapshot, unknown[]],
  machine: AnyStateMachine,
  s: AnyMachineSnapshot,
  e: EventObject,
): Outcome {
  const [next, actions] = step(machine, s, e);
  return {
    same: next === s,
    snapshot: JSON.parse(JSON.stringify(machine.getPersistedSnapshot(next))) as unknown,
    actions: JSON.parse(
      JSON.stringify(
        (actions as { type: string; params?: unknown }[]).map((a) => ({
          type: a.type,
          params: a.params,
        })),
      ),
    ) as unknown,
  };
}

const xstate = (m: AnyStateMachine, s: AnyMachineSnapshot, e: EventObject) =>
  transition(m, s, e) as [AnyMachineSnapshot, unknown[]];

function expectSame(machine: AnyStateMachine, s: AnyMachineSnapshot, e: EventObject): void {
  const ours = outcome(pureTransition, machine, s, e);
  expect(ours).toEqual(outcome(xstate, machine, s, e));
}

describe('pureTransition', () => {
  it('answers as transition() on every state and event of the convention graph', () => {
    const approval = getShortestPaths(conventionMachine, {
      input: G_INPUT,
      events: graphEvents,
      limit: 20_000,
    });
    const inForce = approval.find(
      (p) =>
        conventionStateLabel(p.state) === 'IN_FORCE' &&
        p.state.context.entes.every((x) => x.status === 'SIGNED'),
    );
    expect(inForce).toBeDefined();
    const later = getShortestPaths(conventionMachine, {
      input: G_INPUT,
      fromState: inForce!.state,
      events: lifeEvents,
      limit: 20_000,
    });
    let checked = 0;
    let moved = 0;
    for (const [paths, events] of [
      [approval, graphEvents],
      [later, lifeEvents],
    ] as const) {
      for (const p of paths) {
        const s = p.state;
        for (const e of events(s)) {
          expectSame(conventionMachine, s, e);
          checked++;
          if (pureTransition(conventionMachine, s, e)[0] !== s) moved++;
        }
      }
    }
    // the graphs are large, and most of what they send moves the machine (the rest: a refused guard)
    expect(checked).toBeGreaterThan(500);
    expect(moved).toBeGreaterThan(checked / 2);
  });

  it('answers as transition() on every state × event of the ente-progress and RTD-branch machines', () => {
    for (const status of ENTE_STATUSES) {
      const s = enteProgressMachine.resolveState({ value: status, context: {} });
      for (const type of [...ENTE_STEPS, 'NO_SUCH_STEP'])
        expectSame(enteProgressMachine, s, { type });
    }
    const branchStates = Object.keys(rtdEnteMachine.config.states ?? {});
    expect(branchStates.length).toBeGreaterThan(1);
    for (const state of branchStates) {
      const s = rtdEnteMachine.resolveState({ value: state, context: undefined });
      for (const type of ['ipa.confirm', 'ipa.recheck', 'appointee.change', 'withdraw', 'nope'])
        expectSame(rtdEnteMachine, s, { type });
    }
  });

  it('answers as transition() on every state and event of the RTD graph', () => {
    const paths = rtdGraphPaths();
    let checked = 0;
    for (const p of paths) {
      for (const e of rtdGraphEvents(p.state)) {
        expectSame(rtdMachine, p.state, e);
        checked++;
      }
    }
    expect(checked).toBeGreaterThan(100);
  });
});
