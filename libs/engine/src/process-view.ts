import type { AnyMachineSnapshot } from 'xstate';
import type { Actor } from '@app/common';
import { acceptedEventTypes, type ProcessDefinition, type TimerSpec } from '@app/workflows';
import { authorizeEvent } from './authorization';

export interface AllowedEvent {
  type: string;
  description: string;
  /** for ente-scoped events: the entes this caller may send it for */
  entes?: string[];
}

export interface TimerView {
  key: string;
  kind: 'reminder' | 'deadline';
  dueAt: string;
}

export interface ProcessView {
  id: string;
  definition: { key: string; version: number };
  tenant: string;
  businessKey: string;
  title: string;
  status: string;
  state: string;
  /** optimistic-lock version: send it back as If-Match */
  version: number;
  pendingEntes: string[];
  nextDeadline: string | null;
  overdue: boolean;
  data: Record<string, unknown>;
  allowedEvents: AllowedEvent[];
  timers: TimerView[];
  createdAt: string;
  updatedAt: string;
  /** processes linked to this one (GET only): the RTD of a convention, the convention of an RTD */
  links?: {
    relation: string;
    direction: 'to' | 'from';
    instanceId: string;
    definition: string;
    state: string;
    title: string;
  }[];
}

export interface InstanceRowLike {
  id: string;
  definition_key: string;
  definition_version: number;
  tenant: string;
  business_key: string;
  created_at: Date | string;
  updated_at: Date | string;
}

const iso = (d: Date | string): string => (d instanceof Date ? d : new Date(d)).toISOString();

/**
 * Events the caller may send now and that would be accepted with a valid payload: the state takes them
 * (409 otherwise), the caller's role and ente allow them (403 otherwise, see `authorizeEvent`) and the
 * event's rule precondition holds (422 otherwise) — for `ente`-scoped events with the caller's ente as
 * `payload.ente`. The same functions `decideEvent` runs on a send, so the list and the answer agree.
 */
export function allowedEventsFor(
  def: ProcessDefinition,
  snapshot: AnyMachineSnapshot,
  actor: Actor,
  tenant: string,
  participants: readonly string[],
): AllowedEvent[] {
  const accepted = acceptedEventTypes(snapshot);
  const appointee = def.appointee?.(snapshot) ?? null;
  const out: AllowedEvent[] = [];
  for (const [type, spec] of Object.entries(def.events)) {
    if (spec.scope === 'system' || !accepted.has(type)) continue;
    if (spec.scope === 'ente') {
      const entes = participants.filter(
        (ente) =>
          authorizeEvent(spec, actor, tenant, participants, ente) === null &&
          (spec.precondition?.(snapshot, ente) ?? null) === null,
      );
      if (entes.length > 0) out.push({ type, description: spec.description, entes });
    } else if (
      authorizeEvent(spec, actor, tenant, participants, undefined, appointee) === null &&
      (spec.precondition?.(snapshot, undefined) ?? null) === null
    ) {
      out.push({ type, description: spec.description });
    }
  }
  return out;
}

export function buildView(
  def: ProcessDefinition,
  row: InstanceRowLike,
  snapshot: AnyMachineSnapshot,
  version: number,
  actor: Actor,
  participants: readonly string[],
  now: Date,
  updatedAt?: string,
  timers?: readonly TimerSpec[],
): ProcessView {
  const nextDeadline = def.nextDeadline(snapshot);
  return {
    id: row.id,
    definition: { key: row.definition_key, version: row.definition_version },
    tenant: row.tenant,
    businessKey: row.business_key,
    title: def.titleOf(snapshot),
    status: def.status(snapshot),
    state: def.stateLabel(snapshot),
    version,
    pendingEntes: def.pendingEntes(snapshot),
    nextDeadline,
    overdue: nextDeadline !== null && nextDeadline < now.toISOString(),
    data: def.view(snapshot, now),
    allowedEvents: allowedEventsFor(def, snapshot, actor, row.tenant, participants),
    timers: (timers ?? def.timers(snapshot))
      .map((t) => ({ key: t.key, kind: t.kind, dueAt: t.dueAt }))
      .sort((a, b) => a.dueAt.localeCompare(b.dueAt)),
    createdAt: iso(row.created_at),
    updatedAt: updatedAt ?? iso(row.updated_at),
  };
}
