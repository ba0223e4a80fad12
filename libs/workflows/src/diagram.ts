import type { AnyMachineSnapshot } from 'xstate';
import type { ProcessDefinition } from './definition';

/**
 * Mermaid `stateDiagram-v2` generated from the machine itself (never drawn by hand): every state (with its
 * description), every transition with its event (and guard), eventless (`always`) and completion (onDone)
 * transitions, the events every state takes (root-level handlers), the timers each state arms (from state
 * `meta.timers` or the definition's `timerDocs`), and each ente's own branch machine when the definition has
 * one. With a snapshot, the active states are marked (class `current`) and each branch state lists its entes.
 */

interface TransitionLike {
  eventType: string;
  target?: readonly NodeLike[];
  guard?: unknown;
  description?: string;
}
interface NodeLike {
  key: string;
  id: string;
  path: string[];
  type: 'atomic' | 'compound' | 'parallel' | 'final' | 'history';
  description?: string;
  tags: string[];
  meta?: { timers?: string[] } & Record<string, unknown>;
  states: Record<string, NodeLike>;
  initial?: { target: readonly NodeLike[] };
  transitions: Map<string, TransitionLike[]>;
  always?: TransitionLike[];
}

const ANY = 'ANY_STATE';

/**
 * mermaid-safe text: no characters that end a label or open a block. A semicolon, or a colon that ends a clause,
 * becomes a comma ("i consigli deliberano; nessun termine…" keeps its pause instead of running the two clauses
 * together); a colon inside a word (a timer key `ipa:<ente>`) becomes a space.
 */
const text = (s: string): string =>
  s
    .replace(/\s*;|:(?=\s)/g, ',')
    .replace(/[:{}#"<>|]/g, ' ')
    .replace(/\s+/g, ' ')
    .replace(/,+/g, ',')
    .trim();

function guardName(g: unknown): string | null {
  if (!g) return null;
  if (typeof g === 'string') return g;
  if (typeof g === 'object' && g !== null && 'type' in g) return String(g.type);
  if (typeof g === 'function') {
    const f = g as { guards?: unknown[]; name?: string };
    if (Array.isArray(f.guards)) return f.guards.map((x) => guardName(x) ?? '?').join(' e ');
    return f.name && f.name !== 'guard' ? f.name : 'condizione';
  }
  return null;
}

function label(t: TransitionLike): string {
  const g = guardName(t.guard);
  let ev = t.eventType;
  if (ev === '') ev = 'automatico';
  else if (ev.startsWith('xstate.done.state.')) ev = 'completato';
  return text(g ? `${ev} [${g}]` : ev);
}

class Writer {
  readonly lines: string[] = ['stateDiagram-v2'];
  readonly edges: string[] = [];
  readonly notes: string[] = [];
  constructor(
    private readonly idOf: (n: NodeLike) => string,
    private readonly timerDocs: Readonly<Record<string, readonly string[]>>,
  ) {}

  state(n: NodeLike, indent: string): void {
    const id = this.idOf(n);
    const desc = n.description ? `${n.key} — ${text(n.description)}` : n.key;
    this.lines.push(`${indent}state "${desc}" as ${id}`);
    const children = Object.values(n.states);
    if (children.length) {
      this.lines.push(`${indent}state ${id} {`);
      if (n.type === 'parallel') {
        children.forEach((c, i) => {
          if (i > 0) this.lines.push(`${indent}  --`);
          this.state(c, `${indent}  `);
        });
      } else {
        const init = n.initial?.target[0];
        if (init) this.lines.push(`${indent}  [*] --> ${this.idOf(init)}`);
        for (const c of children) this.state(c, `${indent}  `);
      }
      this.lines.push(`${indent}}`);
    }
    if (n.type === 'final') {
      // a nested final state ends its parent: drawn inside the parent's block
      if (n.path.length > 1) this.lines.push(`${indent}${id} --> [*]`);
      else this.edges.push(`${id} --> [*]`);
    }
    const timers = [...(n.meta?.timers ?? []), ...(this.timerDocs[n.key] ?? [])];
    if (timers.length)
      this.notes.push(`note right of ${id}`, `  timer: ${timers.map(text).join(', ')}`, 'end note');
    this.transitions(n, id);
  }

  transitions(n: NodeLike, from: string): void {
    for (const [, list] of n.transitions) {
      for (const t of list) {
        const targets = t.target?.length ? t.target : null;
        if (!targets) this.edges.push(`${from} --> ${from} : ${label(t)}`);
        else
          for (const to of targets) this.edges.push(`${from} --> ${this.idOf(to)} : ${label(t)}`);
      }
    }
    for (const t of n.always ?? []) {
      for (const to of t.target ?? [])
        this.edges.push(`${from} --> ${this.idOf(to)} : ${label(t)}`);
    }
  }
}

const nodeId = (prefix: string) => (n: NodeLike) =>
  prefix + (n.path.length ? n.path.join('__') : 'ROOT');

function activeIds(snapshot: AnyMachineSnapshot, idOf: (n: NodeLike) => string): string[] {
  return (snapshot._nodes as unknown as NodeLike[]).filter((n) => n.path.length > 0).map(idOf);
}

export interface DiagramOptions {
  /** an instance's snapshot: its active states are marked, and each ente's branch state lists its entes */
  snapshot?: AnyMachineSnapshot;
}

export function mermaidDiagram(def: ProcessDefinition, opts: DiagramOptions = {}): string {
  const root = def.machine.root as unknown as NodeLike;
  const idOf = nodeId('');
  const w = new Writer(idOf, def.timerDocs ?? {});
  w.lines.push(`  %% ${text(def.title)} (${def.key} v${def.version}), generato dalla macchina`);
  const init = root.initial?.target[0];
  if (init) w.edges.push(`[*] --> ${idOf(init)}`);
  for (const c of Object.values(root.states)) w.state(c, '  ');
  // events every state takes (root-level handlers): drawn from one pseudo-state
  if (root.transitions.size) {
    w.lines.push(`  state "in ogni stato non finale" as ${ANY}`);
    w.transitions(root, ANY);
  }
  const classes: string[] = [];
  if (def.branches) {
    const bRoot = def.branches.machine.root as unknown as NodeLike;
    const bId = nodeId('BRANCH__');
    const bw = new Writer(bId, {});
    bw.lines.length = 0;
    bw.lines.push(`  state "${text(def.branches.title)} (per ente)" as BRANCH`, '  state BRANCH {');
    const bInit = bRoot.initial?.target[0];
    if (bInit) bw.lines.push(`    [*] --> ${bId(bInit)}`);
    for (const c of Object.values(bRoot.states)) bw.state(c, '    ');
    bw.lines.push('  }');
    w.lines.push(...bw.lines);
    w.edges.push(...bw.edges);
    w.notes.push(...bw.notes);
    if (opts.snapshot) {
      const byState = new Map<string, string[]>();
      for (const b of def.branches.of(opts.snapshot))
        byState.set(b.state, [...(byState.get(b.state) ?? []), b.ente]);
      for (const [state, entes] of byState) {
        const id = `BRANCH__${state}`;
        w.notes.push(`note left of ${id}`, `  ${entes.join(', ')}`, 'end note');
        classes.push(id);
      }
    }
  }
  const out = [...w.lines, ...w.edges.map((e) => `  ${e}`), ...w.notes.map((n) => `  ${n}`)];
  if (opts.snapshot) {
    const active = activeIds(opts.snapshot, idOf);
    out.push('  classDef current fill:#fde68a,stroke:#b45309,stroke-width:3px');
    if (active.length) out.push(`  class ${active.join(',')} current`);
    if (classes.length) {
      out.push('  classDef branch fill:#dbeafe,stroke:#1d4ed8,stroke-width:2px');
      out.push(`  class ${classes.join(',')} branch`);
    }
  }
  return `${out.join('\n')}\n`;
}
