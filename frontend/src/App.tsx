import { lazy, Suspense, useEffect, useRef, type ReactNode } from "react";
import { Layout } from "./components/Layout";
import { Loading } from "./components/ui";
import { matchPath, navigate, useLocation } from "./lib/router";
import { CartPage } from "./pages/CartPage";
import { CatalogPage } from "./pages/CatalogPage";
import { CheckoutPage } from "./pages/CheckoutPage";
import { LoginPage, RegisterPage } from "./pages/AuthPages";
import { NotFoundPage } from "./pages/NotFoundPage";
import { OrderPage } from "./pages/OrderPage";
import { OrdersPage } from "./pages/OrdersPage";
import { ProductPage } from "./pages/ProductPage";
import { AuthProvider, useAuth } from "./store/auth";
import { CartProvider } from "./store/cart";
import { ToastProvider } from "./store/toast";

// The back office is its own chunk: customers never download it.
const AdminApp = lazy(() => import("./admin/AdminApp"));

export function App() {
  return (
    <AuthProvider>
      <CartProvider>
        <ToastProvider>
          <Layout>
            <Routes />
          </Layout>
        </ToastProvider>
      </CartProvider>
    </AuthProvider>
  );
}

function Routes() {
  const { path } = useLocation();
  useFocusOnNavigation(path);
  let m: Record<string, string> | null;
  if (path === "/" || path === "/products") return <CatalogPage />;
  if ((m = matchPath("/products/:id", path))) return <ProductPage key={m.id} id={m.id} />;
  if (path === "/login") return <LoginPage />;
  if (path === "/register") return <RegisterPage />;
  if (path === "/cart") return <SignedIn><CartPage /></SignedIn>;
  if (path === "/checkout") return <SignedIn><CheckoutPage /></SignedIn>;
  if (path === "/orders") return <SignedIn><OrdersPage /></SignedIn>;
  if ((m = matchPath("/orders/:id", path))) return <SignedIn><OrderPage key={m.id} id={m.id} /></SignedIn>;
  if (path === "/admin" || path.startsWith("/admin/")) {
    return (
      <SignedIn admin>
        <Suspense fallback={<Loading label="Loading the back office…" />}>
          <AdminApp path={path} />
        </Suspense>
      </SignedIn>
    );
  }
  return <NotFoundPage />;
}

/** Pages for signed-in users (or admins) send everyone else to the login page and back afterwards. */
function SignedIn({ children, admin = false }: { children: ReactNode; admin?: boolean }) {
  const { state, isAdmin } = useAuth();
  const { path, search } = useLocation();
  const anonymous = state.status === "anonymous";
  useEffect(() => {
    if (anonymous) navigate(`/login?next=${encodeURIComponent(path + search)}`, { replace: true });
  }, [anonymous, path, search]);
  if (state.status !== "signed-in") return <Loading />;
  if (admin && !isAdmin) {
    return (
      <div className="page narrow">
        <h1 tabIndex={-1}>Administrators only</h1>
        <p>This part of the shop is for administrators. Log in with an administrator account to use it.</p>
      </div>
    );
  }
  return <>{children}</>;
}

/** After an in-app navigation, move focus to the new page's heading so keyboard and screen reader users follow. */
function useFocusOnNavigation(path: string) {
  const first = useRef(true);
  useEffect(() => {
    if (first.current) {
      first.current = false;
      return;
    }
    const id = window.setTimeout(() => {
      const heading = document.querySelector<HTMLElement>("main h1");
      if (heading) {
        if (!heading.hasAttribute("tabindex")) heading.setAttribute("tabindex", "-1");
        heading.focus({ preventScroll: true });
      }
    }, 0);
    return () => window.clearTimeout(id);
  }, [path]);
}
