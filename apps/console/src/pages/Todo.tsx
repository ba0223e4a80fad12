import {
  useCallback,
  useEffect,
  useMemo,
  useRef,
  useState,
  type FormEvent,
  type ReactNode,
} from 'react';
import { Link, useNavigate } from 'react-router-dom';
import { api, ApiFailure, call, newIdempotencyKey } from '../api/client';
import type { TodoItem } from '../api/types';
import { usePageTitle, useSession } from '../App';
import { failureText, toFormErrors } from '../lib/errors';
import { daysLeftLabel, formatDate } from '../lib/dates';
import { enteStatusLabel, eventLabel, stateLabel } from '../lib/labels';
import { useContract } from '../lib/contract';
import { Field } from '../components/EventForm';
import { buildFields, initialValues, toPayload, type FormValues } from '../lib/form-schema';

interface Ente {
  codiceIpa: string;
  denominazione: string;
  kind: 'COMUNE' | 'UNIONE';
  unione: string | null;
}

function Days({ days, overdue }: { days: number | null; overdue: boolean }): ReactNode {
  return <span className={overdue ? 'overdue' : undefined}>{daysLeftLabel(days)}</span>;
}

/** "Da fare": what the signed-in person has to do, most urgent first. */
export function TodoPage(): ReactNode {
  usePageTitle('Da fare');
  const { me } = useSession();
  const [items, setItems] = useState<TodoItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const load = useCallback(() => {
    call<TodoItem[]>(api.GET('/v1/todo')).then(setItems, (e: unknown) =>
      setError(e instanceof ApiFailure ? failureText(e.error) : 'Errore imprevisto'),
    );
  }, []);
  useEffect(load, [load]);
  const overview = me?.roles.some((r) => r === 'presidente' || r === 'staff') ?? false;

  return (
    <>
      <h1>Da fare</h1>
      {error && (
        <p className="alert alert-danger" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p>Caricamento…</p>}
      {items && items.length === 0 && <p data-testid="todo-empty">Nulla da fare per ora.</p>}
      {items && items.length > 0 && (
        <div className="table-responsive">
          <table className="table" data-testid="todo">
            <caption>
              {overview
                ? 'Procedimenti dell’Unione con enti ancora in attesa, il più urgente per primo'
                : 'Procedimenti in cui il tuo ente deve agire, il più urgente per primo'}
            </caption>
            <thead>
              <tr>
                <th scope="col">Procedimento</th>
                <th scope="col">Cosa fare</th>
                <th scope="col">Entro il</th>
                <th scope="col">Giorni</th>
                {overview && <th scope="col">Enti in attesa</th>}
              </tr>
            </thead>
            <tbody>
              {items.map((it) => (
                <tr key={it.id} className={it.overdue ? 'table-danger' : undefined}>
                  <td>
                    <Link to={`/procedimenti/${it.id}`}>{it.title}</Link>
                    <div className="small">{stateLabel(it.state)}</div>
                  </td>
                  <td>
                    {it.actions.length ? (
                      <ul className="list-unstyled mb-0">
                        {it.actions.map((a) => (
                          <li key={a.type}>{eventLabel(a.type)}</li>
                        ))}
                      </ul>
                    ) : (
                      <span>Seguire gli enti in attesa</span>
                    )}
                  </td>
                  <td>{formatDate(it.deadline)}</td>
                  <td>
                    <Days days={it.daysLeft} overdue={it.overdue} />
                  </td>
                  {overview && (
                    <td>
                      <ul className="list-unstyled mb-0 small">
                        {it.pendingEntes.map((p) => (
                          <li key={p.ente}>
                            {p.denominazione}: {enteStatusLabel(p.status)}
                            {p.deadline && (
                              <>
                                {' '}
                                (<Days days={p.daysLeft} overdue={p.overdue} />)
                              </>
                            )}
                          </li>
                        ))}
                      </ul>
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {overview && <StartProcess />}
    </>
  );
}

/** Start a process (presidente, staff): the definition, a title and the participating comuni. */
function StartProcess(): ReactNode {
  const contract = useContract();
  const { me } = useSession();
  const navigate = useNavigate();
  const [entes, setEntes] = useState<Ente[]>([]);
  const [title, setTitle] = useState('');
  const [definition, setDefinition] = useState('convenzione');
  const [members, setMembers] = useState<string[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [busy, setBusy] = useState(false);
  const inFlight = useRef(false);
  const [titleError, setTitleError] = useState<string | null>(null);
  const [key] = useState(newIdempotencyKey);
  useEffect(() => {
    call<Ente[]>(api.GET('/v1/entes')).then(
      (list) => {
        const comuni = list.filter((e) => e.kind === 'COMUNE' && e.unione === me?.unione);
        setEntes(comuni);
        setMembers(comuni.map((c) => c.codiceIpa));
      },
      (e: unknown) =>
        setError(
          `Impossibile caricare i comuni dell’Unione: ${e instanceof ApiFailure ? failureText(e.error) : 'errore imprevisto'}`,
        ),
    );
  }, [me?.unione]);
  // the convention's rules (approval, terms, decorrenza…): generated from StartConventionDto.policy; an empty
  // field keeps the default, so a start without touching them is the default policy
  const policyFields = useMemo(
    () =>
      contract
        ? buildFields(
            contract.schemas['ConventionPolicyDto'],
            contract.schemas,
            'process.start',
          ).map((f) =>
            // a yes/no rule has a default (requirePareri: yes): "predefinito", Sì or No, not a checkbox
            f.kind === 'boolean'
              ? { ...f, kind: 'enum' as const, enumValues: ['true', 'false'] }
              : f,
          )
        : [],
    [contract],
  );
  const [policy, setPolicy] = useState<FormValues | null>(null);
  const policyValues = policy ?? initialValues(policyFields);
  const [policyErrors, setPolicyErrors] = useState<Record<string, string[]>>({});
  const startable = (contract?.definitions ?? []).filter(
    (d) => d.key === 'convenzione' && d.startRoles.some((r) => me?.roles.includes(r)),
  );
  if (startable.length === 0) return null;

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    // a second click while the first request is on its way does nothing (a state would still read false)
    if (inFlight.current) return;
    // a title of blanks only is no title
    if (title.trim() === '') {
      setTitleError('Inserire il titolo del procedimento');
      document.getElementById('start-title')?.focus();
      return;
    }
    setTitleError(null);
    setPolicyErrors({});
    const chosenPolicy = Object.fromEntries(
      Object.entries(toPayload(policyFields, policyValues)).map(([k, v]) => [
        k,
        v === 'true' ? true : v === 'false' ? false : v,
      ]),
    );
    inFlight.current = true;
    setBusy(true);
    setError(null);
    try {
      const view = await call<{ id: string }>(
        api.POST('/v1/processes', {
          body: {
            definition: definition as never,
            businessKey: `${definition}-${key.slice(0, 8)}`,
            input: {
              title: title.trim(),
              unione: me?.unione,
              members,
              ...(Object.keys(chosenPolicy).length > 0 ? { policy: chosenPolicy } : {}),
            } as never,
          },
        }),
      );
      void navigate(`/procedimenti/${view.id}`);
    } catch (err) {
      // the answer to an earlier try of this same form was lost (network): the process it created holds this
      // form's business key, and the API names it — that is the process the user started
      const existing =
        err instanceof ApiFailure && err.error.code === 'ALREADY_EXISTS'
          ? (err.error.details as { processId?: unknown } | undefined)?.processId
          : undefined;
      if (typeof existing === 'string') {
        void navigate(`/procedimenti/${existing}`);
        return;
      }
      setError(err instanceof ApiFailure ? failureText(err.error) : 'Errore imprevisto');
      if (err instanceof ApiFailure) {
        // "input.policy.quorumMinEntes" → next to that rule
        const fe = toFormErrors(err.error).fields;
        setPolicyErrors(
          Object.fromEntries(
            Object.entries(fe)
              .filter(([k]) => k.startsWith('input.policy.'))
              .map(([k, v]) => [k.slice('input.policy.'.length), v]),
          ),
        );
      }
      setBusy(false);
      inFlight.current = false;
    }
  };

  return (
    <section className="mt-5" aria-labelledby="start-h">
      <h2 id="start-h" className="h3">
        Avvia un procedimento
      </h2>
      <form className="card card-body" onSubmit={(e) => void submit(e)} noValidate>
        <div className="select-wrapper mb-3">
          <label htmlFor="start-def">Tipo di procedimento</label>
          <select id="start-def" value={definition} onChange={(e) => setDefinition(e.target.value)}>
            {startable.map((d) => (
              <option key={d.key} value={d.key}>
                {d.title}
              </option>
            ))}
          </select>
        </div>
        <div className="form-group mb-3">
          <label htmlFor="start-title" className="active">
            Titolo
          </label>
          <input
            id="start-title"
            className="form-control"
            value={title}
            onChange={(e) => setTitle(e.target.value)}
            required
            maxLength={300}
            aria-invalid={titleError ? true : undefined}
            aria-describedby={titleError ? 'start-title-err' : undefined}
          />
          {titleError && (
            <div id="start-title-err" className="field-error" data-testid="start-title-error">
              {titleError}
            </div>
          )}
        </div>
        <fieldset className="group">
          <legend>Comuni partecipanti</legend>
          {entes.map((c) => (
            <div className="form-check" key={c.codiceIpa}>
              <input
                id={`m-${c.codiceIpa}`}
                type="checkbox"
                checked={members.includes(c.codiceIpa)}
                onChange={(e) =>
                  setMembers((m) =>
                    e.target.checked ? [...m, c.codiceIpa] : m.filter((x) => x !== c.codiceIpa),
                  )
                }
              />
              <label htmlFor={`m-${c.codiceIpa}`}>{c.denominazione}</label>
            </div>
          ))}
        </fieldset>
        {definition === 'convenzione' && policyFields.length > 0 && (
          <details className="mb-3" open={Object.keys(policyErrors).length > 0 || undefined}>
            <summary>Regole del procedimento (facoltative: vuoto = valore predefinito)</summary>
            <div className="mt-3">
              {policyFields.map((f) => (
                <Field
                  key={f.path}
                  f={f}
                  path={[f.name]}
                  value={policyValues[f.name]!}
                  set={(path, v) => setPolicy({ ...policyValues, [String(path[0])]: v })}
                  errors={policyErrors}
                  formId="start-policy"
                  event={{ type: 'process.start', description: '' }}
                  entes={[]}
                />
              ))}
            </div>
          </details>
        )}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <button className="btn btn-primary" type="submit" disabled={busy || members.length === 0}>
          Avvia
        </button>
      </form>
    </section>
  );
}
