import { useEffect, useState, type ReactNode } from 'react';
import { api, ApiFailure, call } from '../api/client';
import { failureText } from '../lib/errors';
import { usePageTitle } from '../App';

interface Ente {
  id: string;
  kind: 'COMUNE' | 'UNIONE';
  denominazione: string;
  codiceIpa: string;
  codiceIstat: string | null;
  codiceCatastale: string | null;
  pec: string | null;
  provincia: string | null;
  popolazione: number | null;
  unione: string | null;
}

/** Enti: the registry (comuni and unioni with their codes). */
export function EntesPage(): ReactNode {
  usePageTitle('Enti');
  const [entes, setEntes] = useState<Ente[] | null>(null);
  const [error, setError] = useState<string | null>(null);
  useEffect(() => {
    // a failure is said, not shown as an empty registry
    call<Ente[]>(api.GET('/v1/entes')).then(setEntes, (e: unknown) =>
      setError(e instanceof ApiFailure ? failureText(e.error) : 'Errore imprevisto'),
    );
  }, []);
  return (
    <>
      <h1>Enti</h1>
      {error && (
        <p className="alert alert-danger" role="alert">
          {error}
        </p>
      )}
      {entes === null && !error && <p>Caricamento…</p>}
      {entes && (
        <div className="table-responsive">
          <table className="table table-sm" data-testid="entes-registry">
            <caption>Anagrafe degli enti ({entes.length})</caption>
            <thead>
              <tr>
                <th scope="col">Denominazione</th>
                <th scope="col">Tipo</th>
                <th scope="col">Codice IPA</th>
                <th scope="col">ISTAT</th>
                <th scope="col">Catastale</th>
                <th scope="col">Provincia</th>
                <th scope="col">Popolazione</th>
                <th scope="col">PEC</th>
                <th scope="col">Unione</th>
              </tr>
            </thead>
            <tbody>
              {entes.map((e) => (
                <tr key={e.id}>
                  <th scope="row">{e.denominazione}</th>
                  <td>{e.kind === 'COMUNE' ? 'Comune' : 'Unione'}</td>
                  <td className="mono">{e.codiceIpa}</td>
                  <td>{e.codiceIstat ?? '—'}</td>
                  <td>{e.codiceCatastale ?? '—'}</td>
                  <td>{e.provincia ?? '—'}</td>
                  <td>{e.popolazione?.toLocaleString('it-IT') ?? '—'}</td>
                  <td className="small">{e.pec ?? '—'}</td>
                  <td>{e.unione ?? '—'}</td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
    </>
  );
}
