import { useEffect, useMemo, useRef } from "react";

export interface Debounced<A extends unknown[]> {
  /** Calls back `delay` ms after the last call, with that call's arguments; earlier calls are dropped. */
  (...args: A): void;
  /** Drops a pending call (for example when the same thing is done at once instead). */
  cancel(): void;
}

/**
 * A debounced version of `callback`: only a pause of `delay` ms lets it run. The latest `callback` runs (so it
 * sees the current state), and a pending call is dropped when the component unmounts.
 */
export function useDebounced<A extends unknown[]>(callback: (...args: A) => void, delay: number): Debounced<A> {
  const latest = useRef(callback);
  latest.current = callback;
  const timer = useRef<ReturnType<typeof setTimeout> | undefined>(undefined);
  useEffect(() => () => clearTimeout(timer.current), []);
  return useMemo(() => {
    const cancel = () => {
      clearTimeout(timer.current);
      timer.current = undefined;
    };
    const debounced = (...args: A) => {
      cancel();
      timer.current = setTimeout(() => {
        timer.current = undefined;
        latest.current(...args);
      }, delay);
    };
    return Object.assign(debounced, { cancel });
  }, [delay]);
}
