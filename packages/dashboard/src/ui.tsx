// Small pieces every page uses: loading state of one API read, a client-side pager, formatting.
import type { ComponentChildren } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { ApiError } from './api.js';

export function useApi<T>(load: () => Promise<T>, deps: unknown[]): { data?: T; error?: ApiError | Error; reload: () => void } {
  const [state, setState] = useState<{ data?: T; error?: ApiError | Error }>({});
  const [tick, setTick] = useState(0);
  useEffect(() => {
    let live = true;
    load().then(
      (data) => live && setState({ data }),
      (error: Error) => live && setState({ error }),
    );
    return () => {
      live = false;
    };
  }, [...deps, tick]);
  return { ...state, reload: () => setTick((t) => t + 1) };
}

export function Problem({ error }: { error: Error }) {
  return (
    <p class="problem" role="alert">
      {error instanceof ApiError ? `${error.code}: ` : ''}
      {error.message}
    </p>
  );
}

export function Loading() {
  return <p aria-busy="true">Loading…</p>;
}

/** Lists the API answers whole are shown a page at a time. */
export function Paged<T>({ items, size = 25, children }: { items: T[]; size?: number; children: (page: T[]) => ComponentChildren }) {
  const [page, setPage] = useState(0);
  const pages = Math.max(1, Math.ceil(items.length / size));
  const current = Math.min(page, pages - 1);
  return (
    <>
      {children(items.slice(current * size, (current + 1) * size))}
      {pages > 1 && (
        <nav class="pager" aria-label="pages">
          <button type="button" disabled={current === 0} onClick={() => setPage(current - 1)}>
            Previous
          </button>
          <span>
            page {current + 1} of {pages}
          </span>
          <button type="button" disabled={current >= pages - 1} onClick={() => setPage(current + 1)}>
            Next
          </button>
        </nav>
      )}
    </>
  );
}

export const number = new Intl.NumberFormat('en');
export function micros(us: number): string {
  return us >= 1000 ? `${(us / 1000).toFixed(1)} ms` : `${Math.round(us)} µs`;
}
export function time(ms: number): string {
  return new Date(ms).toISOString().replace('T', ' ').slice(0, 19);
}
export function Json({ value, label }: { value: unknown; label: string }) {
  return <pre data-label={label}>{JSON.stringify(value, null, 2)}</pre>;
}

/** Where a list paged by the API's cursor stands: the cursors of the pages before, so Previous walks back the way Next came. */
export interface Cursor {
  after: string | undefined;
  page: number;
  back(): void;
  forward(next: string | undefined): void;
  reset(): void;
}

export function useCursor(): Cursor {
  const [cursors, setCursors] = useState<(string | undefined)[]>([undefined]);
  return {
    after: cursors.at(-1),
    page: cursors.length,
    back: () => setCursors(cursors.slice(0, -1)),
    forward: (next) => setCursors([...cursors, next]),
    reset: () => setCursors([undefined]),
  };
}

/** Previous and Next over a list paged by cursor; `next` is the API's cursor of the following page. */
export function CursorPager({ cursor, next, label }: { cursor: Cursor; next: string | undefined; label: string }) {
  return (
    <nav class="pager" aria-label={label}>
      <button type="button" disabled={cursor.page === 1} onClick={cursor.back}>
        Previous
      </button>
      <span>page {cursor.page}</span>
      <button type="button" disabled={next === undefined} onClick={() => cursor.forward(next)}>
        Next
      </button>
    </nav>
  );
}
