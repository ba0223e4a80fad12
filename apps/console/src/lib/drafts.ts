/**
 * Drafts of the action forms, kept in the tab's sessionStorage while they are being filled in: a reload, an
 * expired session (sign in again, through the identity provider too) or a closed form brings the values
 * back. Keyed by user, process and event; removed when the action is recorded or cancelled, and all of them
 * when the user signs out (a shared office PC). Nothing is sent anywhere.
 */
const PREFIX = 'iter:bozza:';
/** where to go back after signing in (the page the session expired on) */
export const AFTER_SIGN_IN = 'iter:dopo-accesso';
/** set when a request found the session expired: the sign-in page says so */
export const SESSION_EXPIRED = 'iter:sessione-scaduta';

const key = (user: string, processId: string, event: string) =>
  `${PREFIX}${user}:${processId}:${event}`;

function storage(): Storage | null {
  try {
    return typeof sessionStorage === 'undefined' ? null : sessionStorage;
  } catch {
    return null;
  }
}

export function loadDraft<T>(user: string, processId: string, event: string): T | null {
  const raw = storage()?.getItem(key(user, processId, event));
  if (!raw) return null;
  try {
    return JSON.parse(raw) as T;
  } catch {
    return null;
  }
}

export function saveDraft(user: string, processId: string, event: string, values: unknown): void {
  try {
    storage()?.setItem(key(user, processId, event), JSON.stringify(values));
  } catch {
    // storage full or disabled: the form works without drafts
  }
}

export function dropDraft(user: string, processId: string, event: string): void {
  storage()?.removeItem(key(user, processId, event));
}

/** the events of a process with a draft of this user */
export function draftEvents(user: string, processId: string): string[] {
  const s = storage();
  if (!s) return [];
  const p = `${PREFIX}${user}:${processId}:`;
  const out: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const k = s.key(i);
    if (k?.startsWith(p)) out.push(k.slice(p.length));
  }
  return out;
}

export function dropAllDrafts(): void {
  const s = storage();
  if (!s) return;
  const keys: string[] = [];
  for (let i = 0; i < s.length; i++) {
    const k = s.key(i);
    if (k?.startsWith(PREFIX)) keys.push(k);
  }
  keys.forEach((k) => s.removeItem(k));
}
