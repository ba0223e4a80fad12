import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { api, ApiFailure, call } from '../api/client';
import { failureText } from '../lib/errors';
import { usePageTitle } from '../App';
import { formatInstant } from '../lib/dates';
import { TEMPLATE_LABELS } from '../lib/labels';

interface InboxItem {
  id: string;
  instanceId: string;
  template: string;
  payload: Record<string, unknown>;
  role: string;
  status: string;
  createdAt: string;
  readAt: string | null;
}

const templateLabel = (t: string): string => TEMPLATE_LABELS[t] ?? 'Comunicazione del procedimento';

/** Notifiche: the in-app inbox of the user's ente and roles. */
export function NotificationsPage(): ReactNode {
  usePageTitle('Notifiche');
  const [items, setItems] = useState<InboxItem[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  const fail = (e: unknown) =>
    setError(e instanceof ApiFailure ? failureText(e.error) : 'Errore imprevisto');
  const load = useCallback(() => {
    // a failure is said, not shown as an empty inbox
    call<InboxItem[]>(api.GET('/v1/notifications')).then((x) => {
      setItems(x);
      setError(null);
    }, fail);
  }, []);
  useEffect(load, [load]);
  const markRead = async (id: string) => {
    try {
      await call(api.POST('/v1/notifications/{id}/read', { params: { path: { id } } }));
      load();
    } catch (e) {
      fail(e);
    }
  };
  return (
    <>
      <h1>Notifiche</h1>
      {error && (
        <p className="alert alert-danger" role="alert">
          {error}
        </p>
      )}
      {items === null && !error && <p>Caricamento…</p>}
      {items?.length === 0 && <p>Nessuna notifica.</p>}
      {items && items.length > 0 && (
        <ul className="list-group" data-testid="inbox">
          {items.map((n) => (
            <li key={n.id} className="list-group-item d-flex flex-wrap gap-2 align-items-center">
              <span className={n.readAt ? undefined : 'fw-bold'}>
                {n.readAt ? '' : 'Nuova: '}
                {templateLabel(n.template)}
              </span>
              <span className="small">{formatInstant(n.createdAt)}</span>
              <Link to={`/procedimenti/${n.instanceId}`}>Apri il procedimento</Link>
              {!n.readAt && (
                <button
                  type="button"
                  className="btn btn-sm btn-outline-primary ms-auto"
                  onClick={() => void markRead(n.id)}
                >
                  Segna come letta
                </button>
              )}
            </li>
          ))}
        </ul>
      )}
    </>
  );
}
