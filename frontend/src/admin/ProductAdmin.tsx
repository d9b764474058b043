import { useEffect, useState, type FormEvent } from "react";
import {
  adjustStock,
  createProduct,
  discontinueProduct,
  getProduct,
  listCategories,
  listProducts,
  updateProduct,
} from "../api/catalog";
import { ApiError, errorMessage } from "../api/client";
import type { Product, ProductChanges } from "../api/types";
import { Availability, Empty, ErrorNote, Loading, NO_PRICE, Pagination, Price, SelectField, TextField } from "../components/ui";
import { sentence } from "../lib/address";
import { formatDateTime, plural } from "../lib/format";
import { moneyInputValue, parseMoneyInput } from "../lib/money";
import { useTitle } from "../lib/page";
import { Link, navigate, useLocation } from "../lib/router";
import { useFetch } from "../lib/useFetch";
import { useToast } from "../store/toast";
import { ProductImagesPanel } from "./ProductImages";

const CURRENCIES = ["EUR", "USD", "GBP"];

export function AdminProductsPage() {
  const { query } = useLocation();
  const q = query.get("q") ?? "";
  const page = Math.max(1, Number(query.get("page")) || 1);
  // Set after a write elsewhere in the back office, so the list includes it.
  const position = query.get("position") ?? undefined;
  const [text, setText] = useState(q);
  useEffect(() => setText(q), [q]);
  const list = useFetch(`${q}|${page}`, (signal) =>
    listProducts({ q, page, limit: 25, sort: q ? "relevance" : "newest" }, { minPosition: position, signal }),
  );
  useTitle("Products · Back office");
  const to = (nq: string, np: number) => {
    const params = new URLSearchParams();
    if (nq) params.set("q", nq);
    if (np > 1) params.set("page", String(np));
    const s = params.toString();
    return `/admin/products${s ? `?${s}` : ""}`;
  };
  const data = list.data;
  return (
    <div className="page">
      <div className="page-head">
        <h1>Products</h1>
        <Link to="/admin/products/new" className="btn btn-primary">New product</Link>
      </div>
      <form
        className="search search-inline"
        role="search"
        onSubmit={(e) => {
          e.preventDefault();
          navigate(to(text.trim(), 1));
        }}
      >
        <label htmlFor="admin-product-search" className="visually-hidden">Search products</label>
        <input id="admin-product-search" type="search" placeholder="Name, SKU, category…" value={text} onChange={(e) => setText(e.target.value)} />
        <button className="btn" type="submit">Search</button>
      </form>
      <ErrorNote error={list.error} onRetry={list.reload} />
      {!data && list.loading && <Loading />}
      {data && data.items.length === 0 && (
        <Empty title={q ? "No products match" : "No products yet"}>
          <Link to="/admin/products/new" className="btn">Create the first one</Link>
        </Empty>
      )}
      {data && data.items.length > 0 && (
        <div className="table-wrap">
          <table className="table">
            <caption className="visually-hidden">Products</caption>
            <thead>
              <tr>
                <th scope="col">Product</th>
                <th scope="col">SKU</th>
                <th scope="col">Category</th>
                <th scope="col" className="num">Price</th>
                <th scope="col" className="num">Available</th>
                <th scope="col"><span className="visually-hidden">Actions</span></th>
              </tr>
            </thead>
            <tbody>
              {data.items.map((p) => (
                <tr key={p.id}>
                  <td><Link to={`/admin/products/${p.id}`}>{p.name}</Link></td>
                  <td><code>{p.sku}</code></td>
                  <td>{p.category}</td>
                  <td className="num"><Price money={p.price} missing={NO_PRICE} /></td>
                  <td className="num">{p.available} <Availability available={p.available} /></td>
                  <td className="num">
                    <Link to={`/admin/products/${p.id}`} className="btn btn-small btn-ghost" aria-label={`Edit ${p.name}`}>Edit</Link>
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
          <p className="muted small">{plural(data.total, "product")} listed. Discontinued products are not listed.</p>
        </div>
      )}
      {data && <Pagination page={data.page} pages={data.pages} href={(n) => to(q, n)} onPage={(n) => navigate(to(q, n))} />}
    </div>
  );
}

interface ProductFormValues {
  sku: string;
  name: string;
  description: string;
  category: string;
  price: string;
  currency: string;
  stock: string;
}

type FormErrors = Partial<Record<keyof ProductFormValues, string>>;

function validate(v: ProductFormValues, creating: boolean): FormErrors {
  const e: FormErrors = {};
  if (creating && !/^[A-Za-z0-9._-]{1,64}$/.test(v.sku.trim())) e.sku = "Use 1 to 64 letters, digits, '-', '_' or '.'.";
  if (!v.name.trim()) e.name = "Please enter a name.";
  if (!v.category.trim()) e.category = "Please enter a category.";
  if (parseMoneyInput(v.price, v.currency) === null) e.price = "Enter a price such as 19.99.";
  if (creating && !/^\d+$/.test(v.stock.trim())) e.stock = "Enter a whole number, zero or more.";
  return e;
}

function serverErrors(err: unknown): FormErrors | null {
  if (!(err instanceof ApiError) || Object.keys(err.fieldErrors).length === 0) return null;
  const out: FormErrors = {};
  for (const [k, v] of Object.entries(err.fieldErrors)) {
    const key = (k.startsWith("price") ? "price" : k) as keyof ProductFormValues;
    out[key] = sentence(v);
  }
  return out;
}

function ProductForm({
  initial,
  creating,
  onSubmit,
  submitLabel,
}: {
  initial: ProductFormValues;
  creating: boolean;
  onSubmit(values: ProductFormValues): Promise<void>;
  submitLabel: string;
}) {
  const [values, setValues] = useState(initial);
  const [errors, setErrors] = useState<FormErrors>({});
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const categories = useFetch("categories", (signal) => listCategories({ signal }));
  const set = (k: keyof ProductFormValues) => (e: { target: { value: string } }) => setValues((v) => ({ ...v, [k]: e.target.value }));

  async function submit(e: FormEvent) {
    e.preventDefault();
    const found = validate(values, creating);
    setErrors(found);
    setError("");
    if (Object.keys(found).length) return;
    setBusy(true);
    try {
      await onSubmit(values);
    } catch (err) {
      const fields = serverErrors(err);
      if (fields) setErrors(fields);
      else if (err instanceof ApiError && err.code === "sku_taken") setErrors({ sku: err.message });
      else setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="panel form-grid product-form" onSubmit={submit} noValidate aria-label={submitLabel}>
      {creating && <TextField label="SKU" name="sku" value={values.sku} onChange={set("sku")} error={errors.sku} hint="Unique; letters, digits, '-', '_' or '.'." required />}
      <TextField label="Name" name="name" value={values.name} onChange={set("name")} error={errors.name} required />
      <TextField label="Category" name="category" list="category-options" value={values.category} onChange={set("category")} error={errors.category} required />
      <datalist id="category-options">
        {(categories.data?.categories ?? []).map((c) => <option key={c.name} value={c.name} />)}
      </datalist>
      <div className="field-pair">
        <TextField label="Price" name="price" inputMode="decimal" value={values.price} onChange={set("price")} error={errors.price} required />
        <SelectField label="Currency" name="currency" value={values.currency} onChange={set("currency")} error={errors.currency}>
          {CURRENCIES.map((c) => <option key={c}>{c}</option>)}
        </SelectField>
      </div>
      {creating && <TextField label="Initial stock" name="stock" inputMode="numeric" value={values.stock} onChange={set("stock")} error={errors.stock} />}
      <div className="field field-wide">
        <label htmlFor="product-description">Description</label>
        <textarea id="product-description" name="description" rows={4} value={values.description} onChange={set("description")} />
        {errors.description && <p className="field-error">{errors.description}</p>}
      </div>
      <div className="field-wide">
        <ErrorNote error={error} />
        <button type="submit" className="btn btn-primary" disabled={busy}>
          {busy ? "Saving…" : submitLabel}
        </button>
      </div>
    </form>
  );
}

export function NewProductPage() {
  const toast = useToast();
  useTitle("New product · Back office");
  async function create(v: ProductFormValues) {
    // The form checked the price before calling: `parseMoneyInput` is not null here.
    const amount = parseMoneyInput(v.price, v.currency) ?? 0;
    const { id, position } = await createProduct({
      sku: v.sku.trim(),
      name: v.name.trim(),
      description: v.description.trim(),
      category: v.category.trim(),
      price: { amount, currency: v.currency },
      stock: Number(v.stock),
    });
    toast(`Created ${v.name.trim()}`);
    navigate(`/admin/products/${id}${position ? `?position=${encodeURIComponent(position)}` : ""}`);
  }
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb"><Link to="/admin/products">Products</Link></nav>
      <h1>New product</h1>
      <ProductForm
        creating
        submitLabel="Create product"
        initial={{ sku: "", name: "", description: "", category: "", price: "", currency: "EUR", stock: "0" }}
        onSubmit={create}
      />
    </div>
  );
}

export function EditProductPage({ id }: { id: string }) {
  const toast = useToast();
  const { query } = useLocation();
  const [position, setPosition] = useState<string | undefined>(query.get("position") ?? undefined);
  const [version, setVersion] = useState(0);
  // Right after a create or change, wait until the view has it (read-your-writes).
  const product = useFetch(`${id}|${version}`, (signal) => getProduct(id, { minPosition: position, signal }));
  const p = product.data?.product;
  useTitle(p ? `${p.name} · Back office` : "Product · Back office");

  const reloadAt = (pos: string | null | undefined) => {
    setPosition(pos ?? undefined);
    setVersion((v) => v + 1);
  };

  async function save(v: ProductFormValues) {
    if (!p) return;
    const changes: ProductChanges = {};
    if (v.name.trim() !== p.name) changes.name = v.name.trim();
    if (v.description.trim() !== p.description) changes.description = v.description.trim();
    if (v.category.trim() !== p.category) changes.category = v.category.trim();
    // Checked by the form; a product without a price yet gets one whatever is typed.
    const amount = parseMoneyInput(v.price, v.currency) ?? 0;
    if (amount !== p.price?.amount || v.currency !== p.price?.currency) changes.price = { amount, currency: v.currency };
    if (Object.keys(changes).length === 0) {
      toast("Nothing to save");
      return;
    }
    try {
      const { position } = await updateProduct(id, changes, { ifMatch: product.data?.etag });
      toast("Product saved");
      reloadAt(position);
    } catch (err) {
      if (err instanceof ApiError && err.status === 412) {
        throw new ApiError({ ...err.problem, detail: "Someone changed this product while you were editing. Reload to see their changes, then edit again." });
      }
      throw err;
    }
  }

  if (product.error instanceof ApiError && product.error.status === 404) {
    return (
      <div className="page narrow">
        <h1>Product not found</h1>
        <p>It may have been discontinued; discontinued products are no longer shown.</p>
        <Link to="/admin/products" className="btn">All products</Link>
      </div>
    );
  }
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb"><Link to="/admin/products">Products</Link></nav>
      <ErrorNote error={product.error} onRetry={product.reload} />
      {!p && product.loading && <Loading />}
      {p && (
        <>
          <div className="page-head">
            <div>
              <h1>{p.name}</h1>
              <p className="muted">
                SKU <code>{p.sku}</code> · updated {formatDateTime(p.updated_at)} · <Link to={`/products/${p.id}`}>view in shop</Link> ·{" "}
                <Link to={`/admin/audit/product/${p.id}`}>history</Link>
              </p>
            </div>
            <div className="stock-figure">
              <span className="stock-number">{p.available}</span>
              <span className="muted small">available</span>
            </div>
          </div>
          <div className="admin-columns">
            <div className="stack">
              <ProductForm
                key={`${p.updated_at}|${product.data?.etag}`}
                creating={false}
                submitLabel="Save changes"
                initial={{
                  sku: p.sku,
                  name: p.name,
                  description: p.description,
                  category: p.category,
                  price: p.price ? moneyInputValue(p.price.amount, p.price.currency) : "",
                  currency: p.price?.currency ?? CURRENCIES[0],
                  stock: "",
                }}
                onSubmit={save}
              />
              <ProductImagesPanel product={p} refreshing={product.loading} onDone={reloadAt} />
            </div>
            <div className="stack">
              <StockForm product={p} onDone={reloadAt} />
              <DiscontinueBox product={p} />
            </div>
          </div>
        </>
      )}
    </div>
  );
}

function StockForm({ product, onDone }: { product: Product; onDone(position: string | null | undefined): void }) {
  const [delta, setDelta] = useState("");
  const [error, setError] = useState("");
  const [busy, setBusy] = useState(false);
  const toast = useToast();
  async function submit(e: FormEvent) {
    e.preventDefault();
    const n = Number(delta);
    if (!Number.isInteger(n) || n === 0) {
      setError("Enter a whole number: positive to restock, negative to write off.");
      return;
    }
    setBusy(true);
    setError("");
    try {
      const { position } = await adjustStock(product.id, { delta: n });
      toast(n > 0 ? `Restocked ${n}` : `Wrote off ${-n}`);
      setDelta("");
      onDone(position);
    } catch (err) {
      setError(errorMessage(err));
    } finally {
      setBusy(false);
    }
  }
  return (
    <form className="panel" onSubmit={submit} noValidate aria-labelledby="stock-heading">
      <h2 id="stock-heading">Stock</h2>
      <p className="muted small">{product.available} available now. A negative number writes stock off.</p>
      <div className="row">
        <TextField label="Change by" name="delta" inputMode="numeric" value={delta} onChange={(e) => setDelta(e.target.value)} error={error} placeholder="e.g. 10" />
        <button type="submit" className="btn" disabled={busy}>{busy ? "Saving…" : "Apply"}</button>
      </div>
    </form>
  );
}

function DiscontinueBox({ product }: { product: Product }) {
  const [confirming, setConfirming] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState("");
  const toast = useToast();
  async function discontinue() {
    setBusy(true);
    setError("");
    try {
      const { position } = await discontinueProduct(product.id);
      toast(`${product.name} is discontinued`);
      navigate(`/admin/products${position ? `?position=${encodeURIComponent(position)}` : ""}`);
    } catch (err) {
      setError(errorMessage(err));
      setBusy(false);
    }
  }
  return (
    <section className="panel danger-zone" aria-labelledby="discontinue-heading">
      <h2 id="discontinue-heading">Discontinue</h2>
      <p className="muted small">Removes the product from the catalog; it can no longer be added to carts.</p>
      {confirming ? (
        <div className="row">
          <button type="button" className="btn btn-danger" onClick={discontinue} disabled={busy}>
            {busy ? "Discontinuing…" : `Yes, discontinue`}
          </button>
          <button type="button" className="btn btn-ghost" onClick={() => setConfirming(false)} disabled={busy}>Keep selling</button>
        </div>
      ) : (
        <button type="button" className="btn btn-danger-outline" onClick={() => setConfirming(true)}>Discontinue…</button>
      )}
      {error && <p className="field-error" role="alert">{error}</p>}
    </section>
  );
}
