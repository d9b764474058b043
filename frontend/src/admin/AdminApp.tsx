/** The back office: products, orders, discount codes and the audit log, for administrators. Loaded only when visited. */
import { matchPath, Link } from "../lib/router";
import { AuditPage, StreamPage } from "./AuditPages";
import { AdminOrderPage, AdminOrdersPage } from "./OrderAdmin";
import { AdminProductsPage, EditProductPage, NewProductPage } from "./ProductAdmin";
import { AdminPromotionsPage, NewPromotionPage } from "./PromotionAdmin";
import { NotFoundPage } from "../pages/NotFoundPage";
import "./admin.css";

export default function AdminApp({ path }: { path: string }) {
  let m: Record<string, string> | null;
  let page;
  if (path === "/admin" || path === "/admin/" || path === "/admin/products") page = <AdminProductsPage />;
  else if (path === "/admin/products/new") page = <NewProductPage />;
  else if ((m = matchPath("/admin/products/:id", path))) page = <EditProductPage key={m.id} id={m.id} />;
  else if (path === "/admin/orders") page = <AdminOrdersPage />;
  else if ((m = matchPath("/admin/orders/:id", path))) page = <AdminOrderPage key={m.id} id={m.id} />;
  else if (path === "/admin/promotions") page = <AdminPromotionsPage />;
  else if (path === "/admin/promotions/new") page = <NewPromotionPage />;
  else if (path === "/admin/audit") page = <AuditPage />;
  else if ((m = matchPath("/admin/audit/:type/:id", path))) page = <StreamPage key={path} type={m.type} id={m.id} />;
  else page = <NotFoundPage />;

  const section = path.startsWith("/admin/orders")
    ? "orders"
    : path.startsWith("/admin/promotions")
      ? "promotions"
      : path.startsWith("/admin/audit")
        ? "audit"
        : "products";
  return (
    <div className="admin">
      <nav className="admin-nav" aria-label="Back office">
        <span className="admin-title">Back office</span>
        <Link to="/admin/products" aria-current={section === "products" ? "page" : undefined}>Products</Link>
        <Link to="/admin/orders" aria-current={section === "orders" ? "page" : undefined}>Orders</Link>
        <Link to="/admin/promotions" aria-current={section === "promotions" ? "page" : undefined}>Promotions</Link>
        <Link to="/admin/audit" aria-current={section === "audit" ? "page" : undefined}>Audit log</Link>
      </nav>
      {page}
    </div>
  );
}
