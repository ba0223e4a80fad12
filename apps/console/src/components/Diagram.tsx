import { useEffect, useRef, useState, type ReactNode } from 'react';

/**
 * The process diagram from GET /v1/processes/:id/diagram (Mermaid source, current state marked), rendered with
 * the mermaid package. The section is hidden when the API has no diagram (404).
 */
export function Diagram({ id, version }: { id: string; version: number }): ReactNode {
  const [source, setSource] = useState<string | null>(null);
  // drawn when the reader opens it: a large machine is costly to lay out, on a tablet too
  const [open, setOpen] = useState(false);
  const ref = useRef<HTMLDivElement>(null);
  useEffect(() => {
    let live = true;
    fetch(`/v1/processes/${id}/diagram`, {
      credentials: 'same-origin',
      headers: { 'X-Requested-With': 'iter-console', Accept: 'text/plain, application/json' },
    })
      .then(async (r) => {
        if (!r.ok) return null;
        const type = r.headers.get('content-type') ?? '';
        if (type.includes('json')) {
          const b = (await r.json()) as { mermaid?: string; source?: string; diagram?: string };
          return b.mermaid ?? b.source ?? b.diagram ?? null;
        }
        return r.text();
      })
      .then(
        (s) => live && setSource(s),
        () => live && setSource(null),
      );
    return () => {
      live = false;
    };
  }, [id, version]);
  useEffect(() => {
    if (!source || !open || !ref.current) return;
    let live = true;
    void import('mermaid').then(async ({ default: mermaid }) => {
      mermaid.initialize({ startOnLoad: false, securityLevel: 'strict', theme: 'neutral' });
      try {
        const { svg } = await mermaid.render(`diagram-${id.slice(0, 8)}-${version}`, source);
        if (live && ref.current) ref.current.innerHTML = svg;
      } catch {
        if (live && ref.current) ref.current.textContent = 'Diagramma non disponibile';
      }
    });
    return () => {
      live = false;
    };
  }, [source, open, id, version]);
  if (!source) return null;
  return (
    <section className="mt-4" aria-labelledby="diagram-h">
      <h2 id="diagram-h" className="h4">
        Diagramma del procedimento
      </h2>
      <details onToggle={(e) => setOpen((e.target as HTMLDetailsElement).open)}>
        <summary data-testid="diagram-toggle">
          Mostra il diagramma (stato attuale evidenziato)
        </summary>
        <div
          ref={ref}
          className="diagram"
          role="img"
          aria-label="Diagramma degli stati, con lo stato attuale evidenziato"
          data-testid="diagram"
        />
      </details>
    </section>
  );
}
