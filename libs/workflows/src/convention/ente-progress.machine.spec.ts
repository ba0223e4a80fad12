/**
 * The readable machines (issue 12, "Readable machines", for the convention): one ente's progress is a machine a
 * visualiser can draw, and every status change of the convention goes through it; every state says what it
 * means (description) and what the view needs (tags).
 */
import 'reflect-metadata';
import { getShortestPaths } from '@xstate/graph';
import type { AnyStateNode } from 'xstate';
import { G_INPUT, graphEvents } from '../../../../test/factories/convention-graph.factory';
import { conventionDefinitionV1 } from './convention.definition';
import { conventionMachine } from './convention.machine';
import { ENTE_STATUSES, type EnteStatus } from './convention.types';
import { ENTE_STEPS, enteProgressMachine, enteStep } from './ente-progress.machine';

const nodesOf = (node: AnyStateNode): AnyStateNode[] => [
  node,
  ...Object.values(node.states).flatMap((n) => nodesOf(n)),
];

describe('the ente progress machine', () => {
  const states = enteProgressMachine.root.states;

  it('has one state per ente status, each with a description and tags', () => {
    expect(Object.keys(states).sort()).toEqual([...ENTE_STATUSES].sort());
    for (const node of Object.values(states)) {
      expect(node.description).toEqual(expect.any(String));
      expect(node.tags.length).toBeGreaterThan(0);
    }
  });

  it('every step is drawn, every transition says what it is', () => {
    const used = new Set<string>();
    for (const node of Object.values(states)) {
      for (const [type, transitions] of node.transitions) {
        used.add(type);
        for (const t of transitions) expect(t.description).toEqual(expect.any(String));
      }
    }
    expect([...used].sort()).toEqual([...ENTE_STEPS].sort());
  });

  it('every status is reachable from INVITED', () => {
    const paths = getShortestPaths(enteProgressMachine, {
      events: ENTE_STEPS.map((type) => ({ type })),
    });
    expect(new Set(paths.map((p) => p.state.value))).toEqual(new Set(ENTE_STATUSES));
  });

  it('enteStep follows the diagram and refuses what it does not draw', () => {
    expect(enteStep('INVITED', 'approve')).toBe('APPROVED');
    expect(enteStep('COUNCIL_CONVENED', 'approveImmediatelyExecutive')).toBe('EXECUTIVE');
    expect(enteStep('EXECUTIVE', 'admit')).toBe('ADMITTED');
    expect(enteStep('NON_ADERENTE', 'rejoin')).toBe('INVITED');
    expect(() => enteStep('SIGNED', 'approve')).toThrow(/no step approve from SIGNED/);
    expect(() => enteStep('RECEDUTO', 'sign')).toThrow();
  });
});

describe('the convention machine reads like the procedure', () => {
  it('every state node has a description; the status comes from the tags', () => {
    for (const node of nodesOf(conventionMachine.root).slice(1)) {
      expect([node.id, node.description]).toEqual([node.id, expect.any(String)]);
    }
    const tagOf = (key: string) => conventionMachine.root.states[key]!.tags;
    expect(tagOf('IN_FORCE')).toContain('in-force');
    expect(tagOf('FAILED')).toEqual(['final', 'failed']);
  });

  it('over every reachable state of the approval model, each status change is one step of the ente machine', () => {
    const paths = getShortestPaths(conventionMachine, {
      input: G_INPUT,
      events: graphEvents,
      limit: 20_000,
    });
    const drawn = new Set<string>();
    for (const node of Object.values(enteProgressMachine.root.states))
      for (const [, transitions] of node.transitions)
        for (const t of transitions) drawn.add(`${node.key}→${t.target?.[0]?.key ?? node.key}`);
    const seen = new Set<string>();
    for (const p of paths) {
      for (let i = 1; i < p.steps.length; i++) {
        const before = p.steps[i - 1]!.state.context.entes;
        const after = p.steps[i]!.state.context.entes;
        for (const row of after) {
          const prev = before.find((e) => e.codiceIpa === row.codiceIpa);
          if (!prev || prev.status === row.status) continue;
          seen.add(`${prev.status}→${row.status}`);
        }
      }
    }
    expect([...seen].filter((change) => !drawn.has(change))).toEqual([]);
    expect(seen.size).toBeGreaterThan(8);
    // and the definition's status follows the tags on those states
    for (const p of paths.slice(0, 200)) {
      const status = conventionDefinitionV1.status(p.state);
      expect(['active', 'in_force', 'failed', 'terminated']).toContain(status);
    }
  });

  it('ENTE_STATUSES and the ente machine cannot drift', () => {
    const statuses: readonly EnteStatus[] = ENTE_STATUSES;
    for (const s of statuses) expect(enteProgressMachine.root.states[s]).toBeDefined();
  });
});
