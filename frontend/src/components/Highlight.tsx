import { highlightPieces } from "../lib/highlight";

/** `text` with the words that `query` matched in `<mark>`; React escapes every piece, so any text is safe. */
export function Highlight({ text, query }: { text: string; query: string }) {
  if (!query.trim()) return <>{text}</>;
  return (
    <>
      {highlightPieces(text, query).map((piece, i) => (piece.match ? <mark key={i}>{piece.text}</mark> : piece.text))}
    </>
  );
}
