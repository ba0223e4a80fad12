import 'reflect-metadata';
import { initialTransition } from 'xstate';
import { rtdInput } from '../../../test/factories/rtd.factory';
import { mermaidDiagram } from './diagram';
import { defaultRegistry } from './registry';
import { rtdDefinitionV1 } from './rtd/rtd.definition';

/** The diagrams are generated from the machines: every state and every event of each definition is drawn. */
describe('Mermaid diagrams generated from the machines', () => {
  const registry = defaultRegistry();

  it.each(registry.all().map((d) => [d.key, d]))(
    '%s: every state, every event, the timers',
    (_k, def) => {
      const text = mermaidDiagram(def);
      expect(text.startsWith('stateDiagram-v2\n')).toBe(true);
      for (const type of Object.keys(def.events))
        expect([type, text.includes(` : ${type}`)]).toEqual([type, true]);
      const walk = (states: Record<string, { key: string; states: object }>): string[] =>
        Object.values(states).flatMap((n) => [n.key, ...walk(n.states as never)]);
      for (const key of walk(def.machine.root.states as never))
        expect([key, text.includes(`state "${key}`)]).toEqual([key, true]);
      expect(text).toContain('timer: ');
      // nothing that would break a mermaid line
      for (const line of text.split('\n')) expect(line).not.toMatch(/[;{]\s*\S+.*-->/);
    },
  );

  it('marks the current state and lists each ente in its branch state', () => {
    const [s] = initialTransition(rtdDefinitionV1.machine, rtdInput());
    const text = mermaidDiagram(rtdDefinitionV1, { snapshot: s });
    expect(text).toContain('class VACANT current');
    expect(text).toMatch(/note left of BRANCH__IPA_PENDING\n\s+u_bassareg, c_a988/);
    expect(text).toContain('class BRANCH__IPA_PENDING branch');
  });
});
