/**
 * The images of a product in the back office: upload one (dropped on the zone or chosen with the file input)
 * with its alt text, showing the upload's progress; move one up or down; remove one. Each write answers a
 * position, and `onDone` reloads the product at it, so the list shows the write.
 */
import { useId, useRef, useState, type DragEvent, type FormEvent } from "react";
import { removeProductImage, reorderProductImages, uploadProductImage } from "../api/catalog";
import { ApiError, errorMessage, newIdempotencyKey } from "../api/client";
import type { Product, ProductImage, Written } from "../api/types";
import { Picture } from "../components/ProductPicture";
import { ErrorNote, TextField } from "../components/ui";
import { sentence } from "../lib/address";
import { altTextProblem, IMAGE_TYPES, imageFileProblem, megabytes, moveImage, percent, THUMB_SIZES } from "../lib/images";
import { useToast } from "../store/toast";

type Done = (position: string | null | undefined) => void;

export function ProductImagesPanel({ product, refreshing, onDone }: { product: Product; refreshing: boolean; onDone: Done }) {
  return (
    <section className="panel images-panel" aria-labelledby="images-heading">
      <h2 id="images-heading">Images</h2>
      <ImageList product={product} refreshing={refreshing} onDone={onDone} />
      <UploadForm product={product} onDone={onDone} />
    </section>
  );
}

/** The current images, first (the catalog's) first, each with its alt text and its moves. */
function ImageList({ product, refreshing, onDone }: { product: Product; refreshing: boolean; onDone: Done }) {
  const [busy, setBusy] = useState(false);
  const [confirming, setConfirming] = useState<string | null>(null);
  const [error, setError] = useState("");
  const toast = useToast();
  const images = product.images;
  // Until the product is read again after a write, its list is the old one: no moves from it.
  const idle = !busy && !refreshing;

  async function run(what: () => Promise<Written>, done: string) {
    setBusy(true);
    setError("");
    try {
      const { position } = await what();
      toast(done);
      setConfirming(null);
      onDone(position);
    } catch (err) {
      setError(errorMessage(err));
      // Someone else changed the images meanwhile (an unknown image, a list that is not the current one).
      if (err instanceof ApiError && (err.status === 404 || err.status === 422)) onDone(undefined);
    } finally {
      setBusy(false);
    }
  }

  const move = (index: number, by: -1 | 1) =>
    run(
      () => reorderProductImages(product.id, { order: moveImage(images.map((i) => i.id), index, by) }),
      by < 0 ? "Image moved up" : "Image moved down",
    );
  const remove = (image: ProductImage) => run(() => removeProductImage(product.id, image.id), "Image removed");

  if (images.length === 0) {
    return <p className="muted small">No images yet: the shop shows a coloured tile with the product's initials.</p>;
  }
  return (
    <>
      <p className="muted small">The first image is the one the catalog shows.</p>
      <ol className="image-list" aria-label="Current images" aria-busy={!idle}>
        {images.map((image, i) => (
          <li key={image.id} className="image-item" data-testid="product-image" data-image-id={image.id}>
            <Picture image={image} sizes={THUMB_SIZES} className="picture picture-thumb" decorative lazy />
            <span className="image-alt">
              {image.alt}
              <span className="muted small block">
                {image.width} × {image.height}
                {i === 0 && " · shown in the catalog"}
              </span>
            </span>
            <span className="image-actions">
              {confirming === image.id ? (
                <>
                  <button type="button" className="btn btn-small btn-danger" onClick={() => remove(image)} disabled={!idle}>
                    {busy ? "Removing…" : "Yes, remove"}
                  </button>
                  <button type="button" className="btn btn-small btn-ghost" onClick={() => setConfirming(null)} disabled={busy}>
                    Keep
                  </button>
                </>
              ) : (
                <>
                  <button type="button" className="btn btn-small btn-icon" aria-label={`Move ${image.alt} up`} onClick={() => move(i, -1)} disabled={!idle || i === 0}>
                    ↑
                  </button>
                  <button type="button" className="btn btn-small btn-icon" aria-label={`Move ${image.alt} down`} onClick={() => move(i, 1)} disabled={!idle || i === images.length - 1}>
                    ↓
                  </button>
                  <button type="button" className="btn btn-small btn-danger-outline" aria-label={`Remove ${image.alt}`} onClick={() => setConfirming(image.id)} disabled={!idle}>
                    Remove…
                  </button>
                </>
              )}
            </span>
          </li>
        ))}
      </ol>
      <ErrorNote error={error} />
    </>
  );
}

/** A file, dropped or chosen, and its alt text; both checked here before a byte is sent. */
function UploadForm({ product, onDone }: { product: Product; onDone: Done }) {
  const [file, setFile] = useState<File | null>(null);
  const [alt, setAlt] = useState("");
  const [fileError, setFileError] = useState("");
  const [altError, setAltError] = useState("");
  const [error, setError] = useState<unknown>(null);
  const [progress, setProgress] = useState<number | null>(null);
  const [dragging, setDragging] = useState(false);
  const input = useRef<HTMLInputElement>(null);
  const id = useId();
  // One key per file and alt text: sending the same again after a lost answer adds the image once.
  const key = useRef(newIdempotencyKey());
  const toast = useToast();
  const uploading = progress !== null;

  function choose(chosen: File | undefined) {
    setError(null);
    key.current = newIdempotencyKey();
    if (!chosen) return;
    const problem = imageFileProblem(chosen);
    setFileError(problem ?? "");
    setFile(problem ? null : chosen);
  }

  function drop(e: DragEvent) {
    e.preventDefault();
    setDragging(false);
    if (uploading) return;
    // The input would still name an earlier choice.
    if (input.current) input.current.value = "";
    choose(e.dataTransfer.files[0]);
  }

  async function submit(e: FormEvent) {
    e.preventDefault();
    const altProblem = altTextProblem(alt);
    setAltError(altProblem ?? "");
    if (!file && !fileError) setFileError("Choose an image, or drop one here.");
    if (!file || altProblem) return;
    setError(null);
    setProgress(0);
    try {
      const { position } = await uploadProductImage(
        product.id,
        { image: file, alt: alt.trim() },
        { idempotencyKey: key.current, onProgress: (loaded, total) => setProgress(percent(loaded, total)) },
      );
      toast("Image uploaded");
      setFile(null);
      setAlt("");
      if (input.current) input.current.value = "";
      key.current = newIdempotencyKey();
      onDone(position);
    } catch (err) {
      // A refusal is final for this file or text: a new attempt is a new upload.
      if (err instanceof ApiError && err.status >= 400 && err.status < 500) key.current = newIdempotencyKey();
      const fields = err instanceof ApiError ? err.fieldErrors : {};
      if (fields.image) setFileError(sentence(fields.image));
      if (fields.alt) setAltError(sentence(fields.alt));
      setError(err);
    } finally {
      setProgress(null);
    }
  }

  return (
    <form className="upload-form" onSubmit={submit} noValidate aria-label="Upload an image">
      <div
        className={`drop-zone${dragging ? " dragging" : ""}${fileError ? " field-invalid" : ""}`}
        data-testid="image-drop-zone"
        onDragEnter={(e) => {
          e.preventDefault();
          setDragging(true);
        }}
        onDragOver={(e) => e.preventDefault()}
        onDragLeave={(e) => {
          // Leaving for one of the zone's own children is not leaving the zone.
          if (!e.currentTarget.contains(e.relatedTarget as Node | null)) setDragging(false);
        }}
        onDrop={drop}
      >
        <p className="drop-zone-title">Drop an image here, or</p>
        <label htmlFor={`${id}-file`}>Choose a file</label>
        <input
          ref={input}
          id={`${id}-file`}
          name="image"
          type="file"
          accept={IMAGE_TYPES.join(",")}
          onChange={(e) => choose(e.target.files?.[0])}
          disabled={uploading}
          aria-invalid={!!fileError}
          aria-describedby={`${id}-${fileError ? "error" : "hint"}`}
        />
        {file && !fileError && (
          <p className="small" data-testid="chosen-file">
            {file.name} · {megabytes(file.size)}
          </p>
        )}
        {fileError ? (
          <p className="field-error" id={`${id}-error`}>{fileError}</p>
        ) : (
          <p className="field-hint" id={`${id}-hint`}>JPEG, PNG or WebP, at most 5 MB.</p>
        )}
      </div>
      <TextField
        label="Alt text"
        name="alt"
        value={alt}
        onChange={(e) => setAlt(e.target.value)}
        error={altError}
        hint="What the image shows, for people who cannot see it."
        disabled={uploading}
        required
      />
      {uploading && (
        <p className="upload-progress">
          <progress max={100} value={progress} aria-label="Upload progress" />
          <span className="small">{progress} %</span>
        </p>
      )}
      <ErrorNote error={error} />
      <button type="submit" className="btn btn-primary" disabled={uploading}>
        {uploading ? "Uploading…" : "Upload image"}
      </button>
    </form>
  );
}
