/**
 * Which parts of a product's name a search matched, so the results can mark them. It follows the search rules
 * of API.md (and ADR 0013) as far as a name alone can show them: case- and accent-insensitive ("cafe" marks
 * "Café"); a typed word matches the start of a word ("shi" marks "Shi" in "Shirt"), and a whole word within
 * the typo limit (one edit from 5 letters, two from 9, a transposition counting as one) marks that whole
 * word. The result is plain text pieces, never HTML.
 */

export interface TextPiece {
  text: string;
  match: boolean;
}

const WORD = /[\p{L}\p{N}]+/gu;

/** Letters that do not decompose into a base letter and accents, folded as the search index folds them. */
const LIGATURES: Record<string, string> = { ß: "ss", æ: "ae", œ: "oe", ø: "o", ł: "l", đ: "d", þ: "th" };

/** One character, lower-case and without accents ("É" → "e", "ß" → "ss"). */
function foldChar(ch: string): string {
  const lower = ch.toLowerCase();
  return LIGATURES[lower] ?? lower.normalize("NFD").replace(/\p{M}/gu, "");
}

function fold(text: string): string {
  return Array.from(text, foldChar).join("");
}

/** The words of a search, folded, without punctuation. */
export function searchWords(q: string): string[] {
  return (q.match(WORD) ?? []).map(fold).filter(Boolean);
}

/** Edits forgiven in a typed word of this many letters. */
function typoLimit(letters: number): number {
  return letters >= 9 ? 2 : letters >= 5 ? 1 : 0;
}

/** Optimal string alignment distance (Levenshtein plus adjacent transpositions), giving up above `limit`. */
export function editDistance(a: string, b: string, limit: number): number {
  const s = Array.from(a);
  const t = Array.from(b);
  if (Math.abs(s.length - t.length) > limit) return limit + 1;
  let before: number[] = [];
  let previous = t.map((_, j) => j + 1);
  previous.unshift(0);
  for (let i = 1; i <= s.length; i++) {
    const row = [i];
    let best = i;
    for (let j = 1; j <= t.length; j++) {
      const cost = s[i - 1] === t[j - 1] ? 0 : 1;
      let d = Math.min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + cost);
      if (i > 1 && j > 1 && s[i - 1] === t[j - 2] && s[i - 2] === t[j - 1]) d = Math.min(d, before[j - 2] + 1);
      row.push(d);
      best = Math.min(best, d);
    }
    if (best > limit) return limit + 1;
    before = previous;
    previous = row;
  }
  return previous[t.length];
}

/**
 * How many UTF-16 units at the start of `word` the search words match: 0 for none, its length for all of it.
 * Words are compared folded, so a match is mapped back to the original characters ("Crè" for "cre").
 */
function matchedLength(word: string, words: string[]): number {
  const chars = Array.from(word);
  const folded = chars.map(foldChar);
  const whole = folded.join("");
  let best = 0;
  for (const w of words) {
    const limit = typoLimit(Array.from(w).length);
    if (whole.startsWith(w)) {
      // The fewest original characters whose folded form covers the typed prefix.
      let covered = 0;
      let length = 0;
      for (let i = 0; covered < w.length; i++) {
        covered += folded[i].length;
        length += chars[i].length;
      }
      best = Math.max(best, length);
    } else if (limit > 0 && editDistance(whole, w, limit) <= limit) {
      best = word.length;
    }
  }
  return best;
}

/** `text` cut into pieces, the matched ones marked. Without search words it is one unmarked piece. */
export function highlightPieces(text: string, q: string): TextPiece[] {
  const words = searchWords(q);
  if (words.length === 0) return text ? [{ text, match: false }] : [];
  const pieces: TextPiece[] = [];
  let plainFrom = 0;
  for (const found of text.matchAll(WORD)) {
    const start = found.index;
    const length = matchedLength(found[0], words);
    if (length === 0) continue;
    if (start > plainFrom) pieces.push({ text: text.slice(plainFrom, start), match: false });
    pieces.push({ text: text.slice(start, start + length), match: true });
    plainFrom = start + length;
  }
  if (plainFrom < text.length) pieces.push({ text: text.slice(plainFrom), match: false });
  return pieces;
}
