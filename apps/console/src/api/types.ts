/** Shapes the console reads from views whose `data` the contract types as a free object. */
export interface Me {
  subject: string;
  name: string | null;
  roles: string[];
  ente: string | null;
  unione: string | null;
}

export interface AllowedEvent {
  type: string;
  description: string;
  entes?: string[];
}

export interface ProcessView {
  id: string;
  definition: { key: string; version: number };
  tenant: string;
  businessKey: string;
  title: string;
  status: string;
  state: string;
  version: number;
  pendingEntes: string[];
  nextDeadline: string | null;
  overdue: boolean;
  data: Record<string, unknown>;
  allowedEvents: AllowedEvent[];
  timers: { key: string; kind: string; dueAt: string }[];
  createdAt: string;
  updatedAt: string;
  /** linked processes: the RTD of a convention, the convention of an RTD */
  links?: {
    relation: string;
    direction: 'to' | 'from';
    instanceId: string;
    definition: string;
    state: string;
    title: string;
  }[];
}

export interface EnteRow {
  ente: string;
  denominazione?: string;
  kind?: string;
  status?: string;
  deadline?: { date?: string; dueAt?: string; overdue?: boolean } | null;
  deliberation?: {
    number?: string;
    date?: string;
    outcome?: string;
    immediatamenteEseguibile?: boolean;
  } | null;
  executivity?: { certifiedOn?: string; basis?: string } | null;
  signature?: { signedAt?: string; signatureType?: string; signer?: string } | null;
}

export interface HistoryEvent {
  seq: number;
  type: string;
  payload: Record<string, unknown> | null;
  actor: { subject: string; role: string; ente: string | null };
  occurredAt: string;
  recordedAt: string;
  stateBefore: string | null;
  stateAfter: string;
  versionAfter: number;
  prevHash: string;
  hash: string;
}

export interface TodoItem {
  id: string;
  title: string;
  definition: string;
  state: string;
  version: number;
  actions: AllowedEvent[];
  deadline: string | null;
  daysLeft: number | null;
  overdue: boolean;
  pendingEntes: {
    ente: string;
    denominazione: string;
    status: string;
    deadline: string | null;
    daysLeft: number | null;
    overdue: boolean;
  }[];
}

export interface DefinitionInfo {
  key: string;
  version: number;
  title: string;
  description: string;
  startRoles: string[];
  input: { name: string; schema: string };
  events: {
    type: string;
    description: string;
    scope: string;
    roles: string[];
    payload: { name: string; schema: string } | null;
  }[];
}
