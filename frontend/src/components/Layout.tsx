import { useState, type ReactNode } from "react";
import { Link, navigate, useLocation } from "../lib/router";
import { useAuth } from "../store/auth";
import { useCart } from "../store/cart";

export function Layout({ children }: { children: ReactNode }) {
  const { state, session, isAdmin, logout } = useAuth();
  const { cart } = useCart();
  const { path } = useLocation();
  const [busy, setBusy] = useState(false);
  const count = cart?.item_count ?? 0;
  const active = (prefix: string) =>
    (prefix === "/" ? path === "/" || path.startsWith("/products") : path.startsWith(prefix)) ? "page" : undefined;

  async function onLogout() {
    setBusy(true);
    await logout();
    setBusy(false);
    // Stay on public pages; leave the ones that need an account.
    if (!(path === "/" || path.startsWith("/products/"))) navigate("/");
  }

  return (
    <>
      <a className="skip-link" href="#main">
        Skip to content
      </a>
      <header className="site-header">
        <div className="header-inner">
          <Link to="/" className="brand" aria-label="Shop home">
            <span className="brand-mark" aria-hidden="true">S</span>
            <span className="brand-name">Shop</span>
          </Link>
          <nav className="main-nav" aria-label="Main">
            <Link to="/" aria-current={active("/")}>Catalog</Link>
            {session && <Link to="/orders" aria-current={active("/orders")}>My orders</Link>}
            {isAdmin && <Link to="/admin" aria-current={active("/admin")}>Back office</Link>}
          </nav>
          <div className="header-actions">
            {session ? (
              <>
                <span className="whoami" title={session.email}>
                  {session.name ?? session.email ?? "Signed in"}
                </span>
                <button type="button" className="btn btn-ghost btn-small" onClick={onLogout} disabled={busy}>
                  Log out
                </button>
              </>
            ) : state.status === "loading" ? null : (
              <>
                <Link to={`/login${path === "/login" || path === "/register" ? "" : `?next=${encodeURIComponent(path)}`}`} className="btn btn-ghost btn-small">
                  Log in
                </Link>
                <Link to="/register" className="btn btn-small">
                  Register
                </Link>
              </>
            )}
            <Link to="/cart" className="cart-link" aria-current={active("/cart")} aria-label={`Cart, ${count} ${count === 1 ? "item" : "items"}`}>
              <svg viewBox="0 0 24 24" width="22" height="22" aria-hidden="true">
                <path
                  fill="currentColor"
                  d="M7 18a2 2 0 1 0 0 4 2 2 0 0 0 0-4Zm10 0a2 2 0 1 0 0 4 2 2 0 0 0 0-4ZM7.2 14h9.9c.8 0 1.4-.4 1.7-1.1l3.1-7A1 1 0 0 0 21 4.5H6.2L5.3 2H1v2h3l3.6 9.6-1.3 2.4c-.5 1 .2 2 1.3 2H20v-2H7.7l.9-1.5Z"
                />
              </svg>
              <span className="cart-label">Cart</span>
              {count > 0 && <span className="cart-count" data-testid="cart-count">{count}</span>}
            </Link>
          </div>
        </div>
      </header>
      {state.status === "anonymous" && state.notice && (
        <div className="notice-bar" role="status">
          {state.notice}
        </div>
      )}
      <main id="main" className="site-main">
        {children}
      </main>
      <footer className="site-footer">
        <p>Shop · prices include VAT · payments are simulated with test cards</p>
      </footer>
    </>
  );
}
