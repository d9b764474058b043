import { useEffect } from "react";

/** Sets the tab title for a page. */
export function useTitle(title: string): void {
  useEffect(() => {
    document.title = title ? `${title} · Shop` : "Shop";
  }, [title]);
}
