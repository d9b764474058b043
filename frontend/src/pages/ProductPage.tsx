import { getProduct } from "../api/catalog";
import { ApiError } from "../api/client";
import { AddToCart } from "../components/AddToCart";
import { ProductGallery } from "../components/ProductPicture";
import { Availability, Empty, ErrorNote, Loading, NO_PRICE, Price } from "../components/ui";
import { useTitle } from "../lib/page";
import { Link } from "../lib/router";
import { useFetch } from "../lib/useFetch";

export function ProductPage({ id }: { id: string }) {
  const product = useFetch(id, async (signal) => (await getProduct(id, { signal })).product);
  const p = product.data;
  useTitle(p?.name ?? "Product");

  if (product.error instanceof ApiError && product.error.status === 404) {
    return (
      <div className="page narrow">
        <h1>Product not found</h1>
        <Empty title="This product is not in the catalog (any more).">
          <Link to="/" className="btn">Back to the catalog</Link>
        </Empty>
      </div>
    );
  }
  return (
    <div className="page">
      <nav className="breadcrumbs" aria-label="Breadcrumb">
        <Link to="/">Catalog</Link>
        {p && (
          <>
            <span aria-hidden="true">/</span>
            <Link to={`/?category=${encodeURIComponent(p.category)}`}>{p.category}</Link>
          </>
        )}
      </nav>
      <ErrorNote error={product.error} onRetry={product.reload} />
      {!p && product.loading && <Loading label="Loading product…" />}
      {p && (
        <article className="product">
          <ProductGallery product={p} />
          <div className="product-info">
            <p className="eyebrow">{p.category}</p>
            <h1>{p.name}</h1>
            <p className="product-price">
              <Price money={p.price} missing={NO_PRICE} />
            </p>
            <p className="product-stock" data-testid="availability">
              <Availability available={p.available} />
              {p.available > 0 && <span className="muted"> · {p.available} available</span>}
            </p>
            <AddToCart product={p} />
            {p.description && (
              <section className="product-description" aria-label="Description">
                <h2>About this product</h2>
                <p>{p.description}</p>
              </section>
            )}
            <dl className="specs">
              <dt>SKU</dt>
              <dd>{p.sku}</dd>
              <dt>Category</dt>
              <dd>{p.category}</dd>
            </dl>
          </div>
        </article>
      )}
    </div>
  );
}
