import { useEffect, useState, type FormEvent, type ReactNode } from 'react';
import { api, call, ApiFailure } from '../api/client';
import { useSession, usePageTitle } from '../App';
import { failureText } from '../lib/errors';
import { SESSION_EXPIRED } from '../lib/drafts';

interface DevUser {
  id: string;
  name: string;
  roles: string[];
  ente: string | null;
  unione: string | null;
  group: string;
}

/** Sign-in: the identity provider (SPID/CIE gateway) in production; a fixture user in development. */
export function SignInPage(): ReactNode {
  usePageTitle('Accedi');
  const { refresh } = useSession();
  const [cfg, setCfg] = useState<{ devSignIn: boolean; oidc: boolean } | null>(null);
  const [users, setUsers] = useState<DevUser[]>([]);
  const [user, setUser] = useState('');
  const [error, setError] = useState<string | null>(null);
  const [expired] = useState(() => sessionStorage.getItem(SESSION_EXPIRED) === '1');

  useEffect(() => {
    void (async () => {
      const c = await call<{ devSignIn: boolean; oidc: boolean }>(api.GET('/auth/config'));
      setCfg(c);
      if (c.devSignIn) setUsers(await call<DevUser[]>(api.GET('/auth/dev/users')));
    })().catch(() => setError('Impossibile contattare il server'));
  }, []);

  const submit = async (e: FormEvent) => {
    e.preventDefault();
    setError(null);
    try {
      await call(api.POST('/auth/dev/login', { body: { user } }));
      await refresh();
    } catch (err) {
      setError(err instanceof ApiFailure ? failureText(err.error) : 'Accesso non riuscito');
    }
  };

  const groups = [...new Set(users.map((u) => u.group))];
  return (
    <div className="row justify-content-center">
      <div className="col-lg-6">
        <h1>Accedi a Iter</h1>
        {expired && (
          <p className="alert alert-warning" role="alert" data-testid="session-expired">
            La sessione è scaduta: accedere di nuovo. I dati inseriti nei moduli non inviati sono
            stati conservati e si ritrovano dopo l’accesso.
          </p>
        )}
        {cfg?.oidc && (
          <p>
            <a className="btn btn-primary btn-lg" href="/auth/login">
              Entra con SPID o CIE
            </a>
          </p>
        )}
        {cfg?.devSignIn && (
          <form onSubmit={(e) => void submit(e)} className="card card-body mt-3">
            <h2 className="h4">Accesso di sviluppo</h2>
            <p>Solo fuori produzione: scegliere uno degli utenti di prova.</p>
            <div className="select-wrapper mb-3">
              <label htmlFor="dev-user">Utente di prova</label>
              <select id="dev-user" value={user} onChange={(e) => setUser(e.target.value)} required>
                <option value="">Selezionare un utente…</option>
                {groups.map((g) => (
                  <optgroup key={g} label={g}>
                    {users
                      .filter((u) => u.group === g)
                      .map((u) => (
                        <option key={u.id} value={u.id}>
                          {u.name}
                        </option>
                      ))}
                  </optgroup>
                ))}
              </select>
            </div>
            <button className="btn btn-primary" type="submit" disabled={!user}>
              Accedi
            </button>
          </form>
        )}
        {cfg && !cfg.devSignIn && !cfg.oidc && (
          <p className="alert alert-warning">Nessun metodo di accesso configurato (OIDC_ISSUER).</p>
        )}
        {error && (
          <p className="alert alert-danger mt-3" role="alert">
            {error}
          </p>
        )}
      </div>
    </div>
  );
}
