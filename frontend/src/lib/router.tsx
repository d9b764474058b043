/**
 * A router small enough to read in one sitting: the location lives in `window.location`, changes go through
 * `navigate` (History API), and components re-render through `useLocation`. Enough for this app's dozen
 * routes without shipping a routing library in the first page's JavaScript.
 */
import { useSyncExternalStore, type AnchorHTMLAttributes, type MouseEvent, type ReactNode } from "react";

const listeners = new Set<() => void>();

function subscribe(listener: () => void): () => void {
  listeners.add(listener);
  if (listeners.size === 1) window.addEventListener("popstate", notify);
  return () => {
    listeners.delete(listener);
    if (listeners.size === 0) window.removeEventListener("popstate", notify);
  };
}

function notify(): void {
  for (const l of listeners) l();
}

function snapshot(): string {
  return window.location.pathname + window.location.search;
}

export interface Location {
  path: string;
  search: string;
  query: URLSearchParams;
}

/** The current path and query; re-renders the caller whenever either changes. */
export function useLocation(): Location {
  const href = useSyncExternalStore(subscribe, snapshot, snapshot);
  const q = href.indexOf("?");
  const path = q < 0 ? href : href.slice(0, q);
  const search = q < 0 ? "" : href.slice(q);
  return { path, search, query: new URLSearchParams(search) };
}

export interface NavigateOptions {
  replace?: boolean;
  /** Keep the scroll position (for changes within a page, such as a filter). */
  keepScroll?: boolean;
}

export function navigate(to: string, options: NavigateOptions = {}): void {
  if (to === snapshot()) return;
  if (options.replace) window.history.replaceState(null, "", to);
  else window.history.pushState(null, "", to);
  if (!options.keepScroll) window.scrollTo(0, 0);
  notify();
}

/**
 * Matches `/products/:id` against a path; returns the named parts, or null. Parts are URI-decoded.
 */
export function matchPath(pattern: string, path: string): Record<string, string> | null {
  const want = pattern.split("/").filter(Boolean);
  const have = path.split("/").filter(Boolean);
  if (want.length !== have.length) return null;
  const params: Record<string, string> = {};
  for (let i = 0; i < want.length; i++) {
    if (want[i].startsWith(":")) {
      try {
        params[want[i].slice(1)] = decodeURIComponent(have[i]);
      } catch {
        return null;
      }
    } else if (want[i] !== have[i]) {
      return null;
    }
  }
  return params;
}

type LinkProps = AnchorHTMLAttributes<HTMLAnchorElement> & {
  to: string;
  replace?: boolean;
  children?: ReactNode;
};

/** An ordinary `<a href>` (so middle-click, copy link and keyboard work) that navigates in-app on a plain click. */
export function Link({ to, replace, onClick, children, ...rest }: LinkProps) {
  function handle(e: MouseEvent<HTMLAnchorElement>) {
    onClick?.(e);
    if (e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    if (rest.target && rest.target !== "_self") return;
    e.preventDefault();
    navigate(to, { replace });
  }
  return (
    <a href={to} onClick={handle} {...rest}>
      {children}
    </a>
  );
}
