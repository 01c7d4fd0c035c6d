// Loading data, following the live feed, submitting forms, and timers that pause while the page is hidden.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { ApiError } from "./api";
import { live, type Channel, type LiveMark, type LiveStatus } from "./live";
import type { LiveEvent } from "./types";
import { describeError } from "./ui";

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  set: (data: T) => void;
  /** Change what was loaded, from its latest state (nothing happens before the first answer). */
  update: (change: (data: T) => T) => void;
}

/** ``load()`` now and on every ``reload()``; the last answer wins, an earlier one arriving late is dropped. */
export function useResource<T>(load: () => Promise<T>, deps: unknown[] = []): Resource<T> {
  const [state, setState] = useState<{ data: T | undefined; error: unknown; loading: boolean }>({
    data: undefined,
    error: null,
    loading: true,
  });
  const generation = useRef(0);
  const loader = useRef(load);
  loader.current = load;

  const reload = useCallback(async () => {
    const mine = ++generation.current;
    setState((previous) => ({ ...previous, loading: true }));
    try {
      const data = await loader.current();
      if (mine === generation.current) setState({ data, error: null, loading: false });
    } catch (error) {
      if (mine === generation.current) setState((previous) => ({ ...previous, error, loading: false }));
    }
  }, []);

  useEffect(() => {
    void reload();
    return () => {
      generation.current += 1; // answers for the old inputs (or an unmounted page) are ignored
    };
  }, deps); // eslint-disable-line react-hooks/exhaustive-deps

  const set = useCallback((data: T) => setState({ data, error: null, loading: false }), []);
  const update = useCallback(
    (change: (data: T) => T) =>
      setState((previous) => (previous.data === undefined ? previous : { ...previous, data: change(previous.data) })),
    [],
  );
  return { ...state, reload, set, update };
}

/** Call ``handler`` for each live event (of ``kinds``, when given) and ``onResync`` when the feed lost track. */
export function useLiveEvents(
  handler: (event: LiveEvent, channel: Channel) => void,
  { kinds, onResync }: { kinds?: string[]; onResync?: () => void } = {},
): void {
  const current = useRef({ handler, onResync });
  current.current = { handler, onResync };
  const wanted = kinds?.join(",");
  useEffect(() => {
    const allowed = wanted ? new Set(wanted.split(",")) : null;
    const stopEvents = live.onEvent((event, channel) => {
      if (!allowed || allowed.has(event.kind)) current.current.handler(event, channel);
    });
    const stopResync = live.onResync(() => current.current.onResync?.());
    return () => {
      stopEvents();
      stopResync();
    };
  }, [wanted]);
}

/** Call ``handler`` with each batch of pushed marks (the current ones first, on every connection). */
export function useLiveMarks(handler: (marks: LiveMark[]) => void): void {
  const current = useRef(handler);
  current.current = handler;
  useEffect(() => live.onMarks((marks) => current.current(marks)), []);
}

export function useLiveStatus(): LiveStatus {
  const [status, setStatus] = useState<LiveStatus>(live.status);
  useEffect(() => live.onStatus(setStatus), []);
  return status;
}

/** Run ``tick`` every ``ms`` while the page is visible (and once when it becomes visible again). */
export function useVisibleInterval(tick: () => void, ms: number | null): void {
  const current = useRef(tick);
  current.current = tick;
  useEffect(() => {
    if (ms === null) return undefined;
    let timer: number | undefined;
    const arm = () => {
      window.clearInterval(timer);
      if (document.visibilityState === "visible") timer = window.setInterval(() => current.current(), ms);
    };
    const onVisibility = () => {
      if (document.visibilityState === "visible") current.current();
      arm();
    };
    arm();
    document.addEventListener("visibilitychange", onVisibility);
    return () => {
      window.clearInterval(timer);
      document.removeEventListener("visibilitychange", onVisibility);
    };
  }, [ms]);
}

export interface Submission {
  busy: boolean;
  /** The API's refusal of the last submission; ``null`` while one runs and once one went through. */
  error: ApiError | null;
  /**
   * Run ``work`` (busy meanwhile): an ``ApiError`` it throws is kept in ``error`` (the server's, or one the form
   * makes for what it refuses before asking), any other error is thrown on.
   */
  submit: (work: () => Promise<void>) => Promise<void>;
  /** The refusal to show at the input ``name``, or ``null``. */
  fieldError: (name: string) => string | null;
  clear: () => void;
}

export interface SubmitOptions {
  /** The words for a refusal shown at its input (``describeError`` unless the form explains some codes itself). */
  describe?: (error: ApiError) => string;
  /**
   * Whether a refused path (``symbols.0``, ``changes.risk_pct``) belongs to the input ``name``. Without it only the
   * field the refusal names is shown, exactly; with it every refused field of an invalid request (``problems``) is
   * shown at its own input too.
   */
  within?: (path: string, name: string) => boolean;
}

/** A form's submission: whether one runs, what the API refused, and at which input to say so. */
export function useSubmit({ describe = describeError, within }: SubmitOptions = {}): Submission {
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<ApiError | null>(null);
  const clear = useCallback(() => setError(null), []);
  const submit = useCallback(async (work: () => Promise<void>) => {
    setBusy(true);
    setError(null);
    try {
      await work();
    } catch (failure) {
      if (failure instanceof ApiError) setError(failure);
      else throw failure;
    } finally {
      setBusy(false);
    }
  }, []);
  const fieldError = (name: string): string | null => {
    if (!error) return null;
    if (error.field === name || (within && error.field !== null && within(error.field, name))) return describe(error);
    return within ? (error.problems.find((problem) => within(problem.field, name))?.message ?? null) : null;
  };
  return { busy, error, submit, fieldError, clear };
}
