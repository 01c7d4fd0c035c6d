// Loading data, following the live feed, and timers that pause while the page is hidden.

import { useCallback, useEffect, useRef, useState } from "preact/hooks";
import { live, type Channel, type LiveStatus } from "./live";
import type { LiveEvent } from "./types";

export interface Resource<T> {
  data: T | undefined;
  error: unknown;
  loading: boolean;
  reload: () => Promise<void>;
  set: (data: T) => void;
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
  return { ...state, reload, set };
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
