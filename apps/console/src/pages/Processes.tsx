import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { api, ApiFailure, call } from '../api/client';
import { usePageTitle } from '../App';
import { failureText } from '../lib/errors';
import { formatDate, romeToday } from '../lib/dates';
import { stateLabel } from '../lib/labels';

interface ProcessRow {
  id: string;
  definition: { key: string; version: number };
  title: string;
  status: string;
  state: string;
  pendingEntes: string[];
  nextDeadline: string | null;
  overdue: boolean;
  updatedAt: string;
}

const STATUS_LABELS: Record<string, string> = {
  active: 'In corso',
  in_force: 'In vigore',
  completed: 'Concluso',
  failed: 'Non riuscito',
  terminated: 'Cessato',
};
const DEFINITION_LABELS: Record<string, string> = {
  convenzione: 'Convenzione (art. 30 TUEL)',
  rtd: 'RTD associato (art. 17 CAD)',
};
const PAGE = 50;

/**
 * Procedimenti: every process the user may read (GET /v1/processes: the Unione's, or all of them for admins and
 * auditors), in progress or not; the way to a process that is no longer in "Da fare" (a convention in force, a
 * closed one) and to its register.
 */
export function ProcessesPage(): ReactNode {
  usePageTitle('Procedimenti');
  const [status, setStatus] = useState('');
  const [applied, setApplied] = useState('');
  const [rows, setRows] = useState<ProcessRow[] | null>(null);
  const [total, setTotal] = useState(0);
  const [error, setError] = useState<string | null>(null);

  const fetchPage = (offset: number, s: string) =>
    call<{ items: ProcessRow[]; total: number }>(
      api.GET('/v1/processes', {
        params: { query: { limit: PAGE, offset, ...(s ? { status: s as never } : {}) } },
      }),
    );

  useEffect(() => {
    let live = true;
    setRows(null);
    setError(null);
    fetchPage(0, applied).then(
      (r) => {
        if (!live) return;
        setRows(r.items);
        setTotal(r.total);
      },
      (e: unknown) =>
        live && setError(e instanceof ApiFailure ? failureText(e.error) : 'Errore imprevisto'),
    );
    return () => {
      live = false;
    };
  }, [applied]);

  const more = async () => {
    try {
      const r = await fetchPage(rows?.length ?? 0, applied);
      setRows((old) => [...(old ?? []), ...r.items]);
      setTotal(r.total);
    } catch (e) {
      setError(e instanceof ApiFailure ? failureText(e.error) : 'Errore imprevisto');
    }
  };

  return (
    <>
      <h1>Procedimenti</h1>
      <form
        className="row g-3 align-items-end mb-3"
        aria-label="Filtro"
        onSubmit={(e: FormEvent) => {
          e.preventDefault();
          setApplied(status);
        }}
      >
        <div className="col-md-4 select-wrapper">
          <label htmlFor="p-status">Situazione</label>
          <select id="p-status" value={status} onChange={(e) => setStatus(e.target.value)}>
            <option value="">Tutti</option>
            {Object.entries(STATUS_LABELS).map(([v, t]) => (
              <option key={v} value={v}>
                {t}
              </option>
            ))}
          </select>
        </div>
        <div className="col-md-2">
          <button className="btn btn-primary" type="submit">
            Filtra
          </button>
        </div>
      </form>
      {error && (
        <p className="alert alert-danger" role="alert">
          {error}
        </p>
      )}
      {rows === null && !error && <p>Caricamento…</p>}
      {rows && rows.length === 0 && <p data-testid="processes-empty">Nessun procedimento.</p>}
      {rows && rows.length > 0 && (
        <div className="table-responsive">
          <table className="table" data-testid="processes">
            <caption>
              Procedimenti ({rows.length} di {total}), la scadenza più vicina per prima
            </caption>
            <thead>
              <tr>
                <th scope="col">Procedimento</th>
                <th scope="col">Tipo</th>
                <th scope="col">Stato</th>
                <th scope="col">Prossima scadenza</th>
                <th scope="col">Registro</th>
              </tr>
            </thead>
            <tbody>
              {rows.map((p) => (
                <tr key={p.id} data-process={p.id}>
                  <td>
                    <Link to={`/procedimenti/${p.id}`}>{p.title}</Link>
                  </td>
                  <td>{DEFINITION_LABELS[p.definition.key] ?? p.definition.key}</td>
                  <td>
                    {stateLabel(p.state)}
                    <div className="small">{STATUS_LABELS[p.status] ?? p.status}</div>
                  </td>
                  <td className={p.overdue ? 'overdue' : undefined}>
                    {p.nextDeadline ? formatDate(romeToday(new Date(p.nextDeadline))) : '—'}
                  </td>
                  <td>
                    <Link
                      to={`/procedimenti/${p.id}/registro`}
                      aria-label={`Registro e verifica di ${p.title}`}
                    >
                      Registro e verifica
                    </Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {rows && rows.length < total && (
        <button type="button" className="btn btn-outline-primary" onClick={() => void more()}>
          Mostra altri
        </button>
      )}
    </>
  );
}
