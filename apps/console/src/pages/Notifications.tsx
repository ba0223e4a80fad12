import { useCallback, useEffect, useState, type ReactNode } from 'react';
import { Link } from 'react-router-dom';
import { api, call } from '../api/client';
import { usePageTitle } from '../App';
import { formatInstant } from '../lib/dates';
import { humanize } from '../lib/labels';

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

const TEMPLATE_LABELS: Record<string, string> = {
  'convention.sent': 'Schema di convenzione trasmesso al consiglio',
  'convention.reminder': 'Sollecito: il termine per deliberare si avvicina',
  'convention.deadline.expire': 'Termine per deliberare scaduto',
  'convention.amended': 'Nuova versione del testo da riapprovare',
  'convention.signed': 'Convenzione sottoscritta da tutti',
  'convention.failed': 'Convenzione non approvata',
  'convention.abandoned': 'Procedimento archiviato',
  'convention.expired': 'Convenzione scaduta',
  'convention.terminated': 'Convenzione cessata',
};
const templateLabel = (t: string): string => TEMPLATE_LABELS[t] ?? humanize(t);

/** Notifiche: the in-app inbox of the user's ente and roles. */
export function NotificationsPage(): ReactNode {
  usePageTitle('Notifiche');
  const [items, setItems] = useState<InboxItem[] | null>(null);
  const load = useCallback(() => {
    call<InboxItem[]>(api.GET('/v1/notifications')).then(setItems, () => setItems([]));
  }, []);
  useEffect(load, [load]);
  const markRead = async (id: string) => {
    await call(api.POST('/v1/notifications/{id}/read', { params: { path: { id } } }));
    load();
  };
  return (
    <>
      <h1>Notifiche</h1>
      {items === null && <p>Caricamento…</p>}
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
