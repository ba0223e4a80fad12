import { createContext, useCallback, useContext, useEffect, useState, type ReactNode } from 'react';
import { Link, NavLink, Navigate, Route, Routes, useLocation, useNavigate } from 'react-router-dom';
import { api, call } from './api/client';
import type { Me } from './api/types';
import { AFTER_SIGN_IN, SESSION_EXPIRED, dropAllDrafts } from './lib/drafts';
import { roleLabel } from './lib/labels';
import { EntesPage } from './pages/Entes';
import { NotificationsPage } from './pages/Notifications';
import { ProcessPage } from './pages/Process';
import { ProcessesPage } from './pages/Processes';
import { RegistryPage } from './pages/Registry';
import { SignInPage } from './pages/SignIn';
import { TodoPage } from './pages/Todo';

interface Session {
  me: Me | null;
  refresh: () => Promise<void>;
  signOut: () => Promise<void>;
}
const SessionContext = createContext<Session>({
  me: null,
  refresh: async () => undefined,
  signOut: async () => undefined,
});
export const useSession = (): Session => useContext(SessionContext);

/** sets the document title (WCAG 2.4.2) and moves focus to the page's heading after navigation */
export function usePageTitle(title: string): void {
  useEffect(() => {
    document.title = `${title} – Iter`;
  }, [title]);
}

export function App(): ReactNode {
  const [me, setMe] = useState<Me | null | undefined>(undefined);
  const navigate = useNavigate();
  const location = useLocation();
  const refresh = useCallback(async () => {
    try {
      setMe(await call<Me>(api.GET('/auth/me')));
      setLeaving(false);
    } catch {
      setMe(null);
    }
  }, []);
  // signing out on purpose: the sign-in page does not lead back to the page left
  const [leaving, setLeaving] = useState(false);
  const signOut = useCallback(async () => {
    await api.POST('/auth/logout');
    dropAllDrafts();
    sessionStorage.removeItem(AFTER_SIGN_IN);
    setLeaving(true);
    setMe(null);
    void navigate('/accedi');
  }, [navigate]);
  useEffect(() => {
    void refresh();
    const onUnauth = () =>
      setMe((was) => {
        // signed in a moment ago: the session expired (the sign-in page says so, the drafts are kept)
        if (was) sessionStorage.setItem(SESSION_EXPIRED, '1');
        return null;
      });
    window.addEventListener('iter:unauthenticated', onUnauth);
    return () => window.removeEventListener('iter:unauthenticated', onUnauth);
  }, [refresh]);

  if (me === undefined) return <p className="m-4">Caricamento…</p>;
  const signedIn = me !== null;
  return (
    <SessionContext.Provider value={{ me, refresh, signOut }}>
      <a className="skip-link" href="#contenuto">
        Vai al contenuto
      </a>
      <header className="iter-header">
        <div className="container-xxl py-2 d-flex flex-wrap align-items-center gap-3">
          <Link className="brand" to="/">
            Iter
          </Link>
          <span className="d-none d-md-inline">Procedimenti delle Unioni dei Comuni</span>
          {me && (
            <div className="ms-auto d-flex align-items-center gap-3">
              <span data-testid="who">
                {me.name ?? me.subject} · {me.roles.map(roleLabel).join(', ')}
              </span>
              <button
                className="btn btn-sm btn-outline-light"
                type="button"
                onClick={() => void signOut()}
              >
                Esci
              </button>
            </div>
          )}
        </div>
        {me && (
          <nav className="iter-nav container-xxl" aria-label="Menu principale">
            <NavLink to="/" end>
              Da fare
            </NavLink>
            <NavLink to="/procedimenti" end>
              Procedimenti
            </NavLink>
            <NavLink to="/notifiche">Notifiche</NavLink>
            {me.roles.some(
              (r) => r === 'admin' || r === 'auditor' || r === 'presidente' || r === 'staff',
            ) && <NavLink to="/enti">Enti</NavLink>}
          </nav>
        )}
      </header>
      <main id="contenuto" className="container-xxl py-4" tabIndex={-1}>
        {signedIn ? (
          <Routes>
            <Route path="/accedi" element={<BackAfterSignIn />} />
            <Route path="/" element={<TodoPage />} />
            <Route path="/procedimenti" element={<ProcessesPage />} />
            <Route path="/procedimenti/:id" element={<ProcessPage />} />
            <Route path="/procedimenti/:id/registro" element={<RegistryPage />} />
            <Route path="/notifiche" element={<NotificationsPage />} />
            <Route path="/enti" element={<EntesPage />} />
            <Route path="*" element={<NotFound />} />
          </Routes>
        ) : (
          <Routes>
            <Route path="/accedi" element={<SignInPage />} />
            <Route path="*" element={<ToSignIn from={leaving ? '/' : location.pathname} />} />
          </Routes>
        )}
      </main>
      <footer className="border-top py-3 mt-4">
        <div className="container-xxl small">
          Iter · convenzioni art. 30 TUEL e RTD associato (art. 17 CAD) ·{' '}
          <a href="/docs">documentazione dell’API</a>
        </div>
      </footer>
    </SessionContext.Provider>
  );
}

/** signed out: remember the page (it survives the identity provider's redirect too), then sign in */
function ToSignIn({ from }: { from: string }): ReactNode {
  useEffect(() => {
    if (from !== '/') sessionStorage.setItem(AFTER_SIGN_IN, from);
  }, [from]);
  return <Navigate to="/accedi" replace />;
}

/** just signed in: back to the page the user was on when the session ended, else Da fare */
function BackAfterSignIn(): ReactNode {
  const [to] = useState(() => sessionStorage.getItem(AFTER_SIGN_IN) ?? '/');
  useEffect(() => {
    sessionStorage.removeItem(AFTER_SIGN_IN);
    sessionStorage.removeItem(SESSION_EXPIRED);
  }, []);
  return <Navigate to={to.startsWith('/') && !to.startsWith('//') ? to : '/'} replace />;
}

function NotFound(): ReactNode {
  usePageTitle('Pagina non trovata');
  return (
    <>
      <h1>Pagina non trovata</h1>
      <p>
        <Link to="/">Torna a “Da fare”</Link>
      </p>
    </>
  );
}
