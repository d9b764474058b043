import { useCallback, useEffect, useRef, useState } from "react";
import { ApiError } from "../api/client";
import { getOrder } from "../api/orders";
import type { Order } from "../api/types";

export const POLL_INTERVAL_MS = 1000;
/** Right after checkout the order view may trail the write a little even past X-Min-Position's wait. */
const NOT_FOUND_GRACE_MS = 10_000;

export interface LiveOrder {
  order: Order | undefined;
  etag: string | undefined;
  error: unknown;
  loading: boolean;
  /** Reads again, waiting for `position` (a write's answer) to be in the view. */
  reload(position?: string | null): void;
}

/**
 * An order that follows itself: the first read waits for `position` (read-your-writes after checkout), then
 * it is read again every second while it is `pending`, until the saga confirms or cancels it.
 */
export function useOrder(id: string, position?: string): LiveOrder {
  const [order, setOrder] = useState<Order>();
  const [etag, setEtag] = useState<string>();
  const [error, setError] = useState<unknown>();
  const [loading, setLoading] = useState(true);
  const [wanted, setWanted] = useState<{ position?: string; n: number }>({ position, n: 0 });
  const started = useRef(Date.now());

  useEffect(() => {
    const controller = new AbortController();
    let timer: number | undefined;
    const read = async (minPosition?: string) => {
      try {
        const answer = await getOrder(id, { minPosition, signal: controller.signal });
        if (controller.signal.aborted) return;
        setOrder(answer.order);
        setEtag(answer.etag);
        setError(undefined);
        setLoading(false);
        if (answer.order.status === "pending") timer = window.setTimeout(() => read(), POLL_INTERVAL_MS);
      } catch (e) {
        if (controller.signal.aborted) return;
        const young = Date.now() - started.current < NOT_FOUND_GRACE_MS;
        if (e instanceof ApiError && e.status === 404 && wanted.position && young) {
          timer = window.setTimeout(() => read(wanted.position), POLL_INTERVAL_MS);
          return;
        }
        setError(e);
        setLoading(false);
        // A passing outage should not stop the live view of a pending order.
        if (e instanceof ApiError && (e.status === 0 || e.status >= 500)) {
          timer = window.setTimeout(() => read(), POLL_INTERVAL_MS * 3);
        }
      }
    };
    setLoading(true);
    read(wanted.position);
    return () => {
      controller.abort();
      window.clearTimeout(timer);
    };
  }, [id, wanted]);

  const reload = useCallback((p?: string | null) => setWanted((w) => ({ position: p ?? undefined, n: w.n + 1 })), []);
  return { order, etag, error, loading, reload };
}
