import { useCallback, useEffect, useRef, useState, type ReactNode } from 'react';
import { Link, useParams } from 'react-router-dom';
import { api, ApiFailure, call, historyAll } from '../api/client';
import type { EnteRow, HistoryEvent, ProcessView } from '../api/types';
import { usePageTitle, useSession } from '../App';
import { failureText } from '../lib/errors';
import { draftEvents } from '../lib/drafts';
import { Diagram } from '../components/Diagram';
import { EventForm } from '../components/EventForm';
import { useContract, payloadSchemaOf } from '../lib/contract';
import { daysBetween, daysLeftLabel, formatDate, formatInstant, romeToday } from '../lib/dates';
import { enteStatusLabel, enumLabel, eventLabel, roleLabel, stateLabel } from '../lib/labels';

const TEXT_EVENTS = [
  'convention.freeze',
  'convention.amendment.accept',
  'convention.amendment.open',
];

export function ProcessPage(): ReactNode {
  const { id = '' } = useParams();
  const contract = useContract();
  const [view, setView] = useState<ProcessView | null>(null);
  const [history, setHistory] = useState<HistoryEvent[]>([]);
  const [error, setError] = useState<string | null>(null);
  const [open, setOpen] = useState<string | null>(null);
  const [notice, setNotice] = useState<string | null>(null);
  const noticeShown = useRef<string | null>(null);
  usePageTitle(view ? view.title : 'Procedimento');
  const user = useSession().me?.subject ?? '';
  // back after a reload or a new sign-in: reopen the form the user was filling in
  const [reopened, setReopened] = useState(false);
  useEffect(() => {
    if (!view || reopened) return;
    setReopened(true);
    const drafts = draftEvents(user, view.id);
    const again = view.allowedEvents.find((a) => drafts.includes(a.type));
    if (again) setOpen(again.type);
  }, [view, reopened, user]);

  const load = useCallback(async () => {
    try {
      const [v, h] = await Promise.all([
        call<ProcessView>(api.GET('/v1/processes/{id}', { params: { path: { id } } })),
        historyAll<HistoryEvent>(id),
      ]);
      setView(v);
      setHistory(h);
    } catch (e) {
      setError(e instanceof ApiFailure ? failureText(e.error) : 'Errore imprevisto');
    }
  }, [id]);
  useEffect(() => {
    void load();
  }, [load]);

  if (error)
    return (
      <p className="alert alert-danger" role="alert">
        {error}
      </p>
    );
  if (!view) return <p>Caricamento…</p>;
  const entes = (Array.isArray(view.data['entes']) ? view.data['entes'] : []) as EnteRow[];
  const text = view.data['text'] as { version: number; sha256: string; frozenAt: string } | null;
  const textEvent = [...history]
    .reverse()
    .find((h) => TEXT_EVENTS.includes(h.type) && h.payload?.['text']);
  const today = romeToday();

  return (
    <>
      <nav aria-label="Percorso" className="small mb-2">
        <Link to="/procedimenti">Procedimenti</Link> › Procedimento
      </nav>
      <h1>{view.title}</h1>
      <p>
        Stato:{' '}
        <span className="badge badge-state" data-testid="state" data-state={view.state}>
          {stateLabel(view.state)}
        </span>{' '}
        <span className="small">
          ({view.state}) · versione <span data-testid="version">{view.version}</span> ·{' '}
          <Link to={`/procedimenti/${view.id}/registro`}>Registro e verifica</Link>
        </span>
      </p>
      {(view.links ?? []).length > 0 && (
        <p data-testid="links">
          {(view.links ?? []).map((l) => (
            <span key={l.instanceId} className="d-block">
              {l.direction === 'to' ? 'Procedimento avviato da questo: ' : 'Avviato da: '}
              <Link to={`/procedimenti/${l.instanceId}`}>{l.title}</Link> ({stateLabel(l.state)})
            </span>
          ))}
        </p>
      )}
      {notice && (
        <p
          className="alert alert-success"
          role="status"
          data-testid="notice"
          tabIndex={-1}
          ref={(el) => {
            // the form that was submitted is gone: bring the confirmation into view (on a phone it is far above)
            if (el && noticeShown.current !== notice) {
              noticeShown.current = notice;
              el.focus();
            }
          }}
        >
          {notice}
        </p>
      )}

      <section aria-labelledby="actions-h" className="mt-4">
        <h2 id="actions-h" className="h4">
          Azioni che puoi compiere ora
        </h2>
        {view.allowedEvents.length === 0 && (
          <p data-testid="no-actions">Nessuna azione per te in questo momento.</p>
        )}
        <div className="d-flex flex-wrap gap-2 mb-3">
          {view.allowedEvents.map((a) => (
            <button
              key={a.type}
              type="button"
              className={`btn ${open === a.type ? 'btn-primary' : 'btn-outline-primary'}`}
              aria-expanded={open === a.type}
              data-event={a.type}
              onClick={() => {
                setNotice(null);
                setOpen(open === a.type ? null : a.type);
              }}
            >
              {eventLabel(a.type)}
            </button>
          ))}
        </div>
        {contract &&
          view.allowedEvents
            .filter((a) => a.type === open)
            .map((a) => (
              <EventForm
                key={a.type}
                view={view}
                event={a}
                schemas={contract.schemas}
                payloadSchema={payloadSchemaOf(contract, view.definition.key, a.type)}
                entes={entes}
                onDone={(v) => {
                  setOpen(null);
                  setNotice(`${eventLabel(a.type)}: registrato. Stato: ${stateLabel(v.state)}.`);
                  void load();
                }}
                onReload={() => void load()}
                onCancel={() => setOpen(null)}
              />
            ))}
      </section>

      {text && (
        <section aria-labelledby="text-h" className="mt-4">
          <h2 id="text-h" className="h4">
            Testo della convenzione
          </h2>
          <p>
            Versione {text.version}, congelata il {formatInstant(text.frozenAt)}. Impronta SHA-256:{' '}
            <span className="mono" data-testid="text-hash">
              {text.sha256}
            </span>
          </p>
          {typeof textEvent?.payload?.['text'] === 'string' && (
            <details>
              <summary>Leggi il testo</summary>
              <div className="text-box" tabIndex={0} aria-label="Testo della convenzione">
                {textEvent.payload['text']}
              </div>
            </details>
          )}
        </section>
      )}

      {entes.length > 0 && view.definition.key === 'rtd' && <RtdEntes rows={entes} />}
      {entes.length > 0 && view.definition.key !== 'rtd' && (
        <section aria-labelledby="entes-h" className="mt-4">
          <h2 id="entes-h" className="h4">
            Enti
          </h2>
          <div className="table-responsive">
            <table className="table table-sm" data-testid="entes">
              <caption>
                Una riga per ente: stato, deliberazione, esecutività, firma e termine
              </caption>
              <thead>
                <tr>
                  <th scope="col">Ente</th>
                  <th scope="col">Stato</th>
                  <th scope="col">Deliberazione</th>
                  <th scope="col">Esecutività</th>
                  <th scope="col">Firma</th>
                  <th scope="col">Termine</th>
                  <th scope="col">Giorni</th>
                </tr>
              </thead>
              <tbody>
                {entes.map((e) => {
                  // the council term runs until the vote; afterwards its deadline is met
                  const pending =
                    view.pendingEntes.includes(e.ente) &&
                    ['INVITED', 'COUNCIL_CONVENED'].includes(e.status ?? '');
                  const days =
                    e.deadline?.date && pending ? daysBetween(today, e.deadline.date) : null;
                  const late = days !== null && (days < 0 || Boolean(e.deadline?.overdue));
                  return (
                    <tr key={e.ente} data-ente={e.ente}>
                      <th scope="row">{e.denominazione ?? e.ente}</th>
                      <td data-testid="ente-status">{enteStatusLabel(e.status ?? '')}</td>
                      <td>
                        {e.deliberation
                          ? `n. ${e.deliberation.number} del ${formatDate(e.deliberation.date)} – ${enumLabel(e.deliberation.outcome ?? '')}${e.deliberation.immediatamenteEseguibile ? ', immediatamente eseguibile' : ''}`
                          : '—'}
                      </td>
                      <td>{formatDate(e.executivity?.certifiedOn)}</td>
                      <td>{e.signature ? formatInstant(e.signature.signedAt) : '—'}</td>
                      <td>{pending ? formatDate(e.deadline?.date) : '—'}</td>
                      <td className={late ? 'overdue' : undefined}>
                        {pending ? daysLeftLabel(days) : '—'}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </section>
      )}

      <Diagram id={view.id} version={view.version} />

      <section aria-labelledby="timeline-h" className="mt-4">
        <h2 id="timeline-h" className="h4">
          Cronologia
        </h2>
        <ol className="list-unstyled" data-testid="timeline">
          {history.map((h) => (
            <li key={h.seq} className="border-start border-3 ps-3 mb-2">
              <div>
                <strong>{eventLabel(h.type)}</strong>
                {typeof h.payload?.['ente'] === 'string' &&
                  ` – ${entes.find((x) => x.ente === h.payload!['ente'])?.denominazione ?? String(h.payload['ente'])}`}
              </div>
              <div className="small">
                {formatInstant(h.occurredAt)} · {roleLabel(h.actor.role)} {h.actor.subject}
                {h.actor.ente ? ` (${h.actor.ente})` : ''} · {stateLabel(h.stateAfter)}
              </div>
            </li>
          ))}
        </ol>
      </section>
    </>
  );
}

interface RtdEnteRow {
  ente: string;
  denominazione?: string;
  branch?: string;
  served?: boolean;
  servedFrom?: string | null;
  servedUntil?: string | null;
  referente?: { name?: string } | null;
  ipa?: { registeredOn?: string } | null;
  ipaDeadline?: { date?: string; overdue?: boolean } | null;
}

/** the entes an RTD serves: served from/until, IPA registration and its term, the referente */
function RtdEntes({ rows }: { rows: RtdEnteRow[] }): ReactNode {
  const today = romeToday();
  return (
    <section aria-labelledby="entes-h" className="mt-4">
      <h2 id="entes-h" className="h4">
        Enti serviti
      </h2>
      <div className="table-responsive">
        <table className="table table-sm" data-testid="entes">
          <caption>Una riga per ente: servizio, registrazione su IPA e termine, referente</caption>
          <thead>
            <tr>
              <th scope="col">Ente</th>
              <th scope="col">Servito</th>
              <th scope="col">IPA</th>
              <th scope="col">Registrato su IPA il</th>
              <th scope="col">Termine IPA</th>
              <th scope="col">Referente</th>
            </tr>
          </thead>
          <tbody>
            {rows.map((e) => {
              const due = e.ipaDeadline?.date ?? null;
              const days = due ? daysBetween(today, due) : null;
              return (
                <tr key={e.ente} data-ente={e.ente}>
                  <th scope="row">{e.denominazione ?? e.ente}</th>
                  <td>
                    {e.served === false
                      ? `No${e.servedUntil ? ` (fino al ${formatDate(e.servedUntil)})` : ''}`
                      : `Sì${e.servedFrom ? `, dal ${formatDate(e.servedFrom)}` : ''}`}
                  </td>
                  <td data-testid="ente-status">{e.branch ? enteStatusLabel(e.branch) : '—'}</td>
                  <td>{formatDate(e.ipa?.registeredOn)}</td>
                  <td
                    className={
                      days !== null && (days < 0 || e.ipaDeadline?.overdue) ? 'overdue' : undefined
                    }
                  >
                    {due ? `${formatDate(due)} (${daysLeftLabel(days)})` : '—'}
                  </td>
                  <td>{e.referente?.name ?? '—'}</td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </section>
  );
}
