import { useCallback, useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, ApiFailure, call, historyAll } from '../api/client';
import type { EnteRow, HistoryEvent } from '../api/types';
import { usePageTitle } from '../App';
import { formatInstant, romeDayRange, romeLocalToInstant } from '../lib/dates';
import { failureText } from '../lib/errors';
import { enteStatusLabel, eventLabel, roleLabel, stateLabel } from '../lib/labels';

interface Verify {
  valid: boolean;
  events: number;
  firstBadSeq: number | null;
  reason: string | null;
  lastHash: string;
}
interface StateAt {
  at: string;
  seq: number;
  eventType: string;
  version: number;
  state: string;
  data: Record<string, unknown>;
}

/** the verifier's reasons (libs/engine/src/process-query.service.ts) in Italian */
const VERIFY_REASONS: [RegExp, string][] = [
  [/hash does not match/i, 'l’impronta non corrisponde al contenuto dell’evento'],
  [/prev_hash does not link/i, 'l’evento non è concatenato al precedente'],
  [/missing/i, 'mancano eventi nella sequenza'],
  [/unknown hash format/i, 'formato dell’impronta sconosciuto'],
];
const verifyReason = (r: string | null): string =>
  VERIFY_REASONS.find(([re]) => re.test(r ?? ''))?.[1] ?? 'catena non verificabile';

/** Registro e verifica: the audit history with filters, the chain's verification, the state at a date, exports. */
export function RegistryPage(): ReactNode {
  usePageTitle('Registro e verifica');
  const { id = '' } = useParams();
  const [events, setEvents] = useState<HistoryEvent[] | null>(null);
  const [verify, setVerify] = useState<Verify | null>(null);
  const [filters, setFilters] = useState({ type: '', actor: '', from: '', to: '' });
  const [applied, setApplied] = useState(filters);
  const [types, setTypes] = useState<string[]>([]);
  const [at, setAt] = useState('');
  const [stateAt, setStateAt] = useState<StateAt | null>(null);
  const [error, setError] = useState<string | null>(null);
  const [verifyError, setVerifyError] = useState<string | null>(null);
  const [filterError, setFilterError] = useState<string | null>(null);

  const query = useCallback((f: typeof filters) => {
    const q: Record<string, string> = {};
    if (f.type) q['type'] = f.type;
    if (f.actor) q['actor'] = f.actor;
    Object.assign(q, romeDayRange(f.from, f.to));
    return q;
  }, []);

  useEffect(() => {
    historyAll<HistoryEvent>(id, query(applied)).then(
      (h) => {
        setEvents(h);
        setTypes((t) => (t.length ? t : [...new Set(h.map((x) => x.type))]));
      },
      (e: unknown) =>
        setError(e instanceof ApiFailure ? failureText(e.error) : 'Errore imprevisto'),
    );
  }, [id, applied, query]);
  useEffect(() => {
    call<Verify>(api.GET('/v1/processes/{id}/history/verify', { params: { path: { id } } })).then(
      setVerify,
      (e: unknown) =>
        setVerifyError(
          `Verifica della catena non disponibile: ${e instanceof ApiFailure ? failureText(e.error) : 'errore imprevisto'}`,
        ),
    );
  }, [id]);

  const exportHref = (format: 'csv' | 'jsonl') =>
    `/v1/processes/${id}/history/export?${new URLSearchParams({ ...query(applied), format }).toString()}`;

  const lookAt = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      setStateAt(
        await call<StateAt>(
          api.GET('/v1/processes/{id}/state', {
            params: { path: { id }, query: { at: romeLocalToInstant(at) } },
          }),
        ),
      );
    } catch (err) {
      setStateAt(null);
      setError(err instanceof ApiFailure ? failureText(err.error) : 'Errore imprevisto');
    }
  };

  return (
    <>
      <nav aria-label="Percorso" className="small mb-2">
        <Link to="/procedimenti">Procedimenti</Link> ›{' '}
        <Link to={`/procedimenti/${id}`}>Procedimento</Link> › Registro
      </nav>
      <h1>Registro e verifica</h1>
      {verify && (
        <p data-testid="verify">
          Catena di hash:{' '}
          {verify.valid ? (
            <span className="badge badge-ok">Integra · {verify.events} eventi verificati</span>
          ) : (
            <span className="badge badge-ko">
              Alterata dall’evento n. {verify.firstBadSeq}: {verifyReason(verify.reason)}
            </span>
          )}
        </p>
      )}
      {verifyError && (
        <p className="alert alert-warning" role="alert" data-testid="verify-error">
          {verifyError}
        </p>
      )}
      {error && (
        <p className="alert alert-danger" role="alert">
          {error}
        </p>
      )}

      <form
        className="row g-3 align-items-end mb-3"
        onSubmit={(e) => {
          e.preventDefault();
          // dates compare as strings (YYYY-MM-DD); a reversed range would find nothing
          if (filters.from && filters.to && filters.from > filters.to) {
            setFilterError('La data “Dal” è successiva alla data “Al”: correggere l’intervallo.');
            document.getElementById('f-from')?.focus();
            return;
          }
          setFilterError(null);
          setError(null);
          setApplied(filters);
        }}
        aria-label="Filtri"
      >
        <div className="col-md-3 select-wrapper">
          <label htmlFor="f-type">Evento</label>
          <select
            id="f-type"
            value={filters.type}
            onChange={(e) => setFilters({ ...filters, type: e.target.value })}
          >
            <option value="">Tutti</option>
            {types.map((t) => (
              <option key={t} value={t}>
                {eventLabel(t)}
              </option>
            ))}
          </select>
        </div>
        <div className="col-md-3 form-group mb-0">
          <label htmlFor="f-actor" className="active">
            Autore (identificativo)
          </label>
          <input
            id="f-actor"
            className="form-control"
            value={filters.actor}
            onChange={(e) => setFilters({ ...filters, actor: e.target.value })}
          />
        </div>
        <div className="col-md-2 form-group mb-0">
          <label htmlFor="f-from" className="active">
            Dal
          </label>
          <input
            id="f-from"
            type="date"
            className="form-control"
            value={filters.from}
            onChange={(e) => setFilters({ ...filters, from: e.target.value })}
            aria-invalid={filterError ? true : undefined}
            aria-describedby={filterError ? 'f-range-err' : undefined}
          />
        </div>
        <div className="col-md-2 form-group mb-0">
          <label htmlFor="f-to" className="active">
            Al
          </label>
          <input
            id="f-to"
            type="date"
            className="form-control"
            value={filters.to}
            onChange={(e) => setFilters({ ...filters, to: e.target.value })}
          />
        </div>
        <div className="col-md-2">
          <button className="btn btn-primary" type="submit">
            Filtra
          </button>
        </div>
        {filterError && (
          <p id="f-range-err" className="field-error col-12" role="alert">
            {filterError}
          </p>
        )}
      </form>
      <p>
        Esporta: <a href={exportHref('csv')}>CSV</a> · <a href={exportHref('jsonl')}>JSON Lines</a>
      </p>

      {events && (
        <div className="table-responsive">
          <table className="table table-sm" data-testid="history">
            <caption>Eventi registrati, in ordine ({events.length})</caption>
            <thead>
              <tr>
                <th scope="col">N.</th>
                <th scope="col">Quando</th>
                <th scope="col">Chi</th>
                <th scope="col">Cosa</th>
                <th scope="col">Stato</th>
                <th scope="col">Hash</th>
              </tr>
            </thead>
            <tbody>
              {events.map((h) => (
                <tr key={h.seq}>
                  <td>{h.seq}</td>
                  <td>{formatInstant(h.occurredAt)}</td>
                  <td>
                    {roleLabel(h.actor.role)} {h.actor.subject}
                    {h.actor.ente ? ` (${h.actor.ente})` : ''}
                  </td>
                  <td>{eventLabel(h.type)}</td>
                  <td>
                    {h.stateBefore ? `${stateLabel(h.stateBefore)} → ` : ''}
                    {stateLabel(h.stateAfter)}
                  </td>
                  <td className="mono small" title={h.hash}>
                    {h.hash.slice(0, 12)}…
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}

      <section aria-labelledby="at-h" className="mt-4">
        <h2 id="at-h" className="h4">
          Stato a una data
        </h2>
        <form className="row g-3 align-items-end" onSubmit={(e) => void lookAt(e)}>
          <div className="col-md-4 form-group mb-0">
            <label htmlFor="at" className="active">
              Data e ora (ora italiana)
            </label>
            <input
              id="at"
              type="datetime-local"
              className="form-control"
              value={at}
              onChange={(e) => setAt(e.target.value)}
              required
            />
          </div>
          <div className="col-md-2">
            <button className="btn btn-primary" type="submit" disabled={!at}>
              Mostra
            </button>
          </div>
        </form>
        {stateAt && (
          <div className="mt-3" data-testid="state-at">
            <p>
              Al {formatInstant(stateAt.at)}: <strong>{stateLabel(stateAt.state)}</strong> (versione{' '}
              {stateAt.version}, dopo “{eventLabel(stateAt.eventType)}”)
            </p>
            <ul>
              {((stateAt.data['entes'] ?? []) as EnteRow[]).map((e) => (
                <li key={e.ente}>
                  {e.denominazione ?? e.ente}: {enteStatusLabel(e.status ?? '')}
                </li>
              ))}
            </ul>
          </div>
        )}
      </section>
    </>
  );
}
