/**
 * Framework-free errors with a stable `code`. The core throws them; one filter in apps/api maps them to
 * HTTP (see apps/api/src/http/domain-error.filter.ts). Codes never change once released.
 */
export const ERROR_CODES = [
  'VALIDATION_FAILED',
  'INVALID_ID',
  'UNAUTHENTICATED',
  'FORBIDDEN',
  'PROCESS_NOT_FOUND',
  'DEFINITION_NOT_FOUND',
  'TRANSITION_NOT_ALLOWED',
  'VERSION_CONFLICT',
  'IDEMPOTENCY_KEY_REUSED',
  'RULE_VIOLATION',
  'ENTE_NOT_FOUND',
  'ALREADY_EXISTS',
  'BEFORE_PROCESS_START',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export interface FieldError {
  /** dotted path of the offending field, e.g. `payload.deliberation.number` */
  field: string;
  /** human messages for this field */
  errors: string[];
}

export abstract class DomainError<C extends ErrorCode = ErrorCode> extends Error {
  abstract readonly code: C;
  /** structured, JSON-safe detail for clients (field errors, allowed events, ...) */
  readonly details?: unknown;
  protected constructor(message: string, details?: unknown) {
    super(message);
    this.name = new.target.name;
    if (details !== undefined) this.details = details;
  }
}

export class ValidationFailedError extends DomainError<'VALIDATION_FAILED'> {
  readonly code = 'VALIDATION_FAILED';
  constructor(
    readonly fields: FieldError[],
    message?: string,
  ) {
    super(message ?? `Richiesta non valida: ${fields.map((f) => f.field).join(', ')}`, { fields });
  }
}

export class InvalidIdError extends DomainError<'INVALID_ID'> {
  readonly code = 'INVALID_ID';
  constructor(readonly value: string) {
    super(`Identificativo non valido: "${value}" non è un UUID`, {
      fields: [{ field: 'id', errors: ['must be a UUID'] }],
    });
  }
}

export class UnauthenticatedError extends DomainError<'UNAUTHENTICATED'> {
  readonly code = 'UNAUTHENTICATED';
  constructor(reason: string) {
    super(`Autenticazione richiesta: ${reason}`);
  }
}

export class ForbiddenError extends DomainError<'FORBIDDEN'> {
  readonly code = 'FORBIDDEN';
  constructor(reason: string, details?: unknown) {
    super(reason, details);
  }
}

export class ProcessNotFoundError extends DomainError<'PROCESS_NOT_FOUND'> {
  readonly code = 'PROCESS_NOT_FOUND';
  constructor(readonly instanceId: string) {
    super(`Procedimento ${instanceId} non trovato`);
  }
}

export class DefinitionNotFoundError extends DomainError<'DEFINITION_NOT_FOUND'> {
  readonly code = 'DEFINITION_NOT_FOUND';
  constructor(
    readonly key: string,
    readonly version?: number,
  ) {
    super(`Definizione ${key}${version === undefined ? '' : ` v${version}`} non trovata`);
  }
}

export class TransitionNotAllowedError extends DomainError<'TRANSITION_NOT_ALLOWED'> {
  readonly code = 'TRANSITION_NOT_ALLOWED';
  constructor(
    readonly state: string,
    readonly eventType: string,
    readonly allowedEvents: string[],
  ) {
    super(`L'evento ${eventType} non è ammesso nello stato ${state}`, {
      state,
      event: eventType,
      allowedEvents,
    });
  }
}

export class VersionConflictError extends DomainError<'VERSION_CONFLICT'> {
  readonly code = 'VERSION_CONFLICT';
  constructor(
    readonly expected: number,
    readonly actual: number,
  ) {
    super(
      `Versione non aggiornata: attesa ${expected}, attuale ${actual}. Rileggere il procedimento e riprovare.`,
      {
        expectedVersion: expected,
        currentVersion: actual,
      },
    );
  }
}

export class IdempotencyKeyReusedError extends DomainError<'IDEMPOTENCY_KEY_REUSED'> {
  readonly code = 'IDEMPOTENCY_KEY_REUSED';
  constructor(readonly key: string) {
    super(`La chiave di idempotenza "${key}" è già stata usata per una richiesta diversa`);
  }
}

/** A domain rule refused the step (422). `rule` is a stable SCREAMING_SNAKE identifier of the rule. */
export class RuleViolationError extends DomainError<'RULE_VIOLATION'> {
  readonly code = 'RULE_VIOLATION';
  constructor(
    readonly rule: string,
    message: string,
    readonly fields?: FieldError[],
    extra?: Record<string, unknown>,
  ) {
    super(message, { rule, ...(extra ?? {}), ...(fields ? { fields } : {}) });
  }
}

export class EnteNotFoundError extends DomainError<'ENTE_NOT_FOUND'> {
  readonly code = 'ENTE_NOT_FOUND';
  constructor(readonly codes: string[]) {
    super(`Ente non trovato: ${codes.join(', ')}`, { entes: codes });
  }
}

export class AlreadyExistsError extends DomainError<'ALREADY_EXISTS'> {
  readonly code = 'ALREADY_EXISTS';
  constructor(message: string, details?: unknown) {
    super(message, details);
  }
}

/** GET /v1/processes/:id/state?at= with an instant before the process's first event: it had no state yet. */
export class BeforeProcessStartError extends DomainError<'BEFORE_PROCESS_START'> {
  readonly code = 'BEFORE_PROCESS_START';
  constructor(
    readonly at: string,
    readonly startedAt: string,
  ) {
    super(`Il procedimento non esisteva ancora il ${at}: è stato avviato il ${startedAt}`, {
      at,
      startedAt,
      fields: [{ field: 'at', errors: [`must not be before ${startedAt}`] }],
    });
  }
}
