import { useEffect, useMemo, useRef, useState, type FormEvent, type ReactNode } from 'react';
import { api, ApiFailure, call, historyAll, newIdempotencyKey } from '../api/client';
import type { AllowedEvent, HistoryEvent, ProcessView } from '../api/types';
import { useSession } from '../App';
import { formatInstant, romeLocalDateTime, romeToday } from '../lib/dates';
import { dropDraft, loadDraft, saveDraft } from '../lib/drafts';
import { toFormErrors, type FormErrors } from '../lib/errors';
import {
  buildFields,
  initialValues,
  splitItems,
  toPayload,
  type FieldSpec,
  type FormValue,
  type FormValues,
  type JsonSchema,
} from '../lib/form-schema';
import { enumLabel, eventLabel, roleLabel } from '../lib/labels';

interface Props {
  view: ProcessView;
  event: AllowedEvent;
  schemas: Record<string, JsonSchema>;
  payloadSchema: string | null;
  entes: { ente: string; denominazione?: string }[];
  onDone: (view: ProcessView) => void;
  onReload: () => void;
  onCancel: () => void;
}

const entesOf = (view: ProcessView): { ente: string; served?: boolean }[] =>
  Array.isArray(view.data['entes'])
    ? (view.data['entes'] as { ente: string; served?: boolean }[])
    : [];

/** sensible starting values: the only ente the user may act for, today, now, the frozen text's hash */
function defaultsFor(fields: FieldSpec[], event: AllowedEvent, view: ProcessView): FormValues {
  const d: FormValues = {};
  const text = view.data['text'] as { sha256?: string } | null | undefined;
  for (const f of fields) {
    if (f.kind === 'ente' && event.entes?.length === 1) d[f.name] = event.entes[0]!;
    // the entes an act concerns (the RTD's served entes): those of the process still served, to uncheck if not
    else if (f.kind === 'enteList' && f.required)
      d[f.name] = entesOf(view)
        .filter((e) => e.served !== false)
        .map((e) => e.ente)
        .join('\n');
    else if (f.kind === 'date' && f.required) d[f.name] = romeToday();
    else if (f.kind === 'datetime') d[f.name] = romeLocalDateTime();
    else if (f.name === 'textHash' && text?.sha256) d[f.name] = text.sha256;
  }
  return d;
}

/**
 * One action as a form, generated from the event's payload schema. The Idempotency-Key is drawn when the form
 * opens (a double click, or a retry after a lost answer, records once); If-Match carries the version the user was
 * looking at, so a stale form is refused (409 VERSION_CONFLICT) and the changes made meanwhile are shown.
 */
export function EventForm(p: Props): ReactNode {
  const fields = useMemo(
    () =>
      buildFields(
        p.payloadSchema ? p.schemas[p.payloadSchema] : undefined,
        p.schemas,
        p.event.type,
      ),
    [p.payloadSchema, p.schemas, p.event.type],
  );
  const user = useSession().me?.subject ?? '';
  // a draft left by a reload or an expired session comes back as it was
  const [restored] = useState(() => loadDraft<FormValues>(user, p.view.id, p.event.type));
  const [values, setValues] = useState<FormValues>(
    () => restored ?? initialValues(fields, defaultsFor(fields, p.event, p.view)),
  );
  // kept once the user has typed something (a form opened and left untouched is no draft)
  const touched = useRef(restored !== null);
  useEffect(() => {
    if (touched.current) saveDraft(user, p.view.id, p.event.type, values);
  }, [user, p.view.id, p.event.type, values]);
  const [errors, setErrors] = useState<FormErrors | null>(null);
  const [changes, setChanges] = useState<HistoryEvent[] | null>(null);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const key = useRef(newIdempotencyKey());
  // the version the user is looking at: it changes only when the user asks to reload after a conflict
  const [version, setVersion] = useState(p.view.version);
  const reloadAsked = useRef(false);
  useEffect(() => {
    if (!reloadAsked.current) return;
    reloadAsked.current = false;
    setVersion(p.view.version);
    setErrors(null);
    setChanges(null);
  }, [p.view.version]);
  const formId = `ev-${p.event.type.replace(/\W/g, '-')}`;
  // after a refusal, once the errors are on screen (not before React has drawn them, and not on the submit
  // button, which is disabled while the request is in flight): focus to the first invalid field, else the summary
  const focusError = useRef(false);
  useEffect(() => {
    if (!errors || busy || !focusError.current) return;
    focusError.current = false;
    const firstBad = document.querySelector<HTMLElement>(`#${formId} [aria-invalid="true"]`);
    (firstBad ?? document.getElementById(`${formId}-summary`))?.focus();
  }, [errors, busy, changes, formId]);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    if (inFlight.current) return; // a second click while the first is on its way does nothing
    inFlight.current = true;
    setBusy(true);
    setErrors(null);
    try {
      const payload = toPayload(fields, values);
      const view = await call<ProcessView>(
        api.POST('/v1/processes/{id}/events', {
          params: {
            path: { id: p.view.id },
            header: { 'If-Match': `"${version}"`, 'Idempotency-Key': key.current },
          } as never,
          // the event type comes from allowedEvents at run time: a new event needs no new console
          body: { type: p.event.type, payload } as never,
        }),
      );
      dropDraft(user, p.view.id, p.event.type);
      p.onDone(view);
    } catch (err) {
      if (!(err instanceof ApiFailure)) throw err;
      // the session expired: the app shows the sign-in page; the draft stays for when the user is back
      if (err.error.status === 401) return;
      const fe = toFormErrors(err.error);
      setErrors(fe);
      // the API refused and recorded nothing: the next attempt is a new request with a new key
      if (err.error.status >= 400 && err.error.status < 500) key.current = newIdempotencyKey();
      if (err.error.code === 'VERSION_CONFLICT') {
        const h = await historyAll<HistoryEvent>(p.view.id).catch((): HistoryEvent[] => []);
        setChanges(h.filter((x) => x.versionAfter > version));
      }
      focusError.current = true;
    } finally {
      inFlight.current = false;
      setBusy(false);
    }
  };

  const set = (path: (string | number)[], v: FormValue) => {
    touched.current = true;
    setValues((old) => setIn(old, path, v) as FormValues);
  };

  return (
    <form
      id={formId}
      className="card card-body event-form mb-4"
      onSubmit={(e) => void submit(e)}
      noValidate
      aria-labelledby={`${formId}-h`}
    >
      <h3 id={`${formId}-h`} className="h5">
        {eventLabel(p.event.type)}
      </h3>
      <p className="small">{p.event.description}</p>
      <p className="small">
        Versione del procedimento: <strong data-testid="form-version">{version}</strong>
      </p>
      {restored && !errors && (
        <p className="alert alert-info small" data-testid="draft-restored">
          Sono stati ripristinati i dati inseriti in precedenza e non ancora inviati: controllarli
          prima di confermare.
        </p>
      )}
      {errors && (
        <div id={`${formId}-summary`} className="alert alert-danger" role="alert" tabIndex={-1}>
          <p className="mb-1">
            <strong>{errors.summary}</strong>
          </p>
          <p className="small mb-0">Codice: {errors.code}</p>
          {changes && (
            <>
              <p className="mb-1 mt-2">Nel frattempo:</p>
              <ul data-testid="changes">
                {changes.map((c) => (
                  <li key={c.seq}>
                    {eventLabel(c.type)} – {roleLabel(c.actor.role)}
                    {c.actor.ente ? ` (${c.actor.ente})` : ''}, {formatInstant(c.occurredAt)}
                  </li>
                ))}
              </ul>
              <button
                type="button"
                className="btn btn-outline-primary btn-sm"
                onClick={() => {
                  reloadAsked.current = true;
                  p.onReload();
                }}
              >
                Ricarica il procedimento (i dati inseriti restano)
              </button>
            </>
          )}
        </div>
      )}
      {fields.map((f) => (
        <Field
          key={f.path}
          f={f}
          path={[f.name]}
          value={values[f.name]!}
          set={set}
          errors={errors?.fields ?? {}}
          formId={formId}
          event={p.event}
          entes={p.entes}
        />
      ))}
      <div className="d-flex gap-2">
        <button className="btn btn-primary" type="submit" disabled={busy}>
          {busy ? 'Invio in corso…' : 'Conferma'}
        </button>
        <button
          className="btn btn-outline-secondary"
          type="button"
          onClick={() => {
            dropDraft(user, p.view.id, p.event.type);
            p.onCancel();
          }}
        >
          Annulla
        </button>
      </div>
    </form>
  );
}

function setIn(obj: FormValue, path: (string | number)[], v: FormValue): FormValue {
  if (path.length === 0) return v;
  const [head, ...rest] = path;
  if (Array.isArray(obj)) {
    const copy = [...obj];
    copy[head as number] = setIn(copy[head as number]!, rest, v) as FormValues;
    return copy;
  }
  const o = obj as FormValues;
  return { ...o, [head as string]: setIn(o[head as string]!, rest, v) };
}

export interface FieldProps {
  f: FieldSpec;
  path: (string | number)[];
  value: FormValue;
  set: (path: (string | number)[], v: FormValue) => void;
  errors: Record<string, string[]>;
  formId: string;
  event: AllowedEvent;
  entes: { ente: string; denominazione?: string }[];
}

/** one generated field (also used outside action forms: the policy of a new process) */
export function Field({
  f,
  path,
  value,
  set,
  errors,
  formId,
  event,
  entes,
}: FieldProps): ReactNode {
  const apiPath = path.join('.');
  const id = `${formId}-${apiPath.replace(/\./g, '-')}`;
  const errs = errors[apiPath] ?? [];
  const invalid = errs.length > 0;
  const errId = `${id}-err`;
  const describedBy = invalid ? errId : undefined;
  const label = (
    <>
      {f.label}
      {f.required && <span aria-hidden="true"> *</span>}
    </>
  );
  const errorEl = invalid && (
    <div id={errId} className="field-error" data-testid={`error-${apiPath}`}>
      {errs.join(' ')}
    </div>
  );
  const common = {
    id,
    'aria-invalid': invalid || undefined,
    'aria-describedby': describedBy,
    'aria-required': f.required || undefined,
  };

  switch (f.kind) {
    case 'object':
      return (
        <fieldset className="group">
          <legend>{f.label}</legend>
          {(f.children ?? []).map((c) => (
            <Field
              key={c.name}
              f={c}
              path={[...path, c.name]}
              value={(value as FormValues)[c.name]!}
              set={set}
              errors={errors}
              formId={formId}
              event={event}
              entes={entes}
            />
          ))}
          {errorEl}
        </fieldset>
      );
    case 'list': {
      const items = value as FormValues[];
      return (
        <fieldset className="group">
          <legend>{f.label}</legend>
          {items.map((item, i) => (
            <fieldset className="group" key={i}>
              <legend>
                {f.label.replace(/\s*\(.*\)$/, '')} n. {i + 1}
              </legend>
              {(f.children ?? []).map((c) => (
                <Field
                  key={c.name}
                  f={c}
                  path={[...path, i, c.name]}
                  value={item[c.name]!}
                  set={set}
                  errors={errors}
                  formId={formId}
                  event={event}
                  entes={entes}
                />
              ))}
              <button
                type="button"
                className="btn btn-outline-danger btn-sm"
                onClick={() =>
                  set(
                    path,
                    items.filter((_, j) => j !== i),
                  )
                }
              >
                Rimuovi
              </button>
            </fieldset>
          ))}
          {(f.maxItems === undefined || items.length < f.maxItems) && (
            <button
              type="button"
              className="btn btn-outline-primary btn-sm"
              onClick={() =>
                set(path, [
                  ...items,
                  initialValues(
                    f.children ?? [],
                    Object.fromEntries(
                      (f.children ?? [])
                        .filter((c) => c.kind === 'date')
                        .map((c) => [c.name, romeToday()]),
                    ),
                  ),
                ])
              }
            >
              Aggiungi{' '}
              {f.label
                .replace(/\s*\(.*\)$/, '')
                .toLowerCase()
                .replace(/i$/, 'e')}
            </button>
          )}
          {errorEl}
        </fieldset>
      );
    }
    case 'boolean':
      return (
        <div className="form-check mb-3">
          <input
            {...common}
            type="checkbox"
            checked={value === true}
            onChange={(e) => set(path, e.target.checked)}
          />
          <label htmlFor={id}>{label}</label>
          {errorEl}
        </div>
      );
    case 'enum':
    case 'ente': {
      const options =
        f.kind === 'enum'
          ? (f.enumValues ?? []).map((v) => ({ value: v, text: enumLabel(v) }))
          : (event.entes ?? entes.map((e) => e.ente)).map((code) => ({
              value: code,
              text: entes.find((e) => e.ente === code)?.denominazione ?? code,
            }));
      return (
        <div className="select-wrapper mb-3">
          <label htmlFor={id}>{label}</label>
          <select
            {...common}
            value={value as string}
            onChange={(e) => set(path, e.target.value)}
            className={invalid ? 'is-invalid' : undefined}
          >
            <option value="">Selezionare…</option>
            {options.map((o) => (
              <option key={o.value} value={o.value}>
                {o.text}
              </option>
            ))}
          </select>
          {errorEl}
        </div>
      );
    }
    case 'enteList': {
      const chosen = splitItems(value as string);
      const codes = event.entes ?? entes.map((e) => e.ente);
      return (
        <fieldset
          className="group"
          id={id}
          tabIndex={-1}
          aria-invalid={invalid || undefined}
          aria-describedby={describedBy}
        >
          <legend>{label}</legend>
          {codes.map((code) => (
            <div className="form-check" key={code}>
              <input
                id={`${id}-${code}`}
                type="checkbox"
                checked={chosen.includes(code)}
                onChange={(e) =>
                  set(
                    path,
                    (e.target.checked ? [...chosen, code] : chosen.filter((c) => c !== code)).join(
                      '\n',
                    ),
                  )
                }
              />
              <label htmlFor={`${id}-${code}`}>
                {entes.find((x) => x.ente === code)?.denominazione ?? code}
              </label>
            </div>
          ))}
          {errorEl}
        </fieldset>
      );
    }
    case 'lines':
    case 'textarea':
      return (
        <div className="form-group mb-3">
          <label htmlFor={id} className="active">
            {label}
          </label>
          <textarea
            {...common}
            className={`form-control${invalid ? ' is-invalid' : ''}`}
            rows={f.name === 'text' ? 8 : 3}
            value={value as string}
            maxLength={f.maxLength}
            onChange={(e) => set(path, e.target.value)}
          />
          {f.kind === 'lines' && (
            <small className="form-text">
              {f.numericItems ? 'Numeri separati da virgole' : 'Uno per riga'}
            </small>
          )}
          {errorEl}
        </div>
      );
    default: {
      const type =
        f.kind === 'date'
          ? 'date'
          : f.kind === 'datetime'
            ? 'datetime-local'
            : f.kind === 'integer' || f.kind === 'number'
              ? 'number'
              : 'text';
      return (
        <div className="form-group mb-3">
          <label htmlFor={id} className="active">
            {label}
          </label>
          <input
            {...common}
            type={type}
            className={`form-control${invalid ? ' is-invalid' : ''}`}
            value={value as string}
            min={f.min}
            max={f.max}
            step={f.kind === 'integer' ? 1 : undefined}
            maxLength={f.maxLength}
            onChange={(e) => set(path, e.target.value)}
          />
          {f.kind === 'datetime' && <small className="form-text">Ora italiana (Europe/Rome)</small>}
          {errorEl}
        </div>
      );
    }
  }
}
