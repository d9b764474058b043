import { render } from "@testing-library/react";
import { describe, expect, it } from "vitest";
import { Highlight } from "../src/components/Highlight";
import { editDistance, highlightPieces } from "../src/lib/highlight";

/** The pieces as a string with the marked ones in [brackets], to read a case at a glance. */
function marked(text: string, q: string): string {
  return highlightPieces(text, q)
    .map((p) => (p.match ? `[${p.text}]` : p.text))
    .join("");
}

describe("highlighting the search in a product name", () => {
  it("marks whole words case-insensitively", () => {
    expect(marked("Blue Shirt", "blue")).toBe("[Blue] Shirt");
    expect(marked("Blue Shirt", "SHIRT blue")).toBe("[Blue] [Shirt]");
  });

  it("marks only the typed prefix of a word", () => {
    expect(marked("Blue Shirt", "blue shi")).toBe("[Blue] [Shi]rt");
    expect(marked("Stoneware Mug", "ston")).toBe("[Ston]eware Mug");
  });

  it("marks the longest prefix when several words match the same word", () => {
    expect(marked("Stoneware", "st stone")).toBe("[Stone]ware");
  });

  it("marks a word within the typo limit, as the search forgives it", () => {
    expect(marked("Blue Shirt", "blue shrit")).toBe("[Blue] [Shirt]"); // a transposition is one edit
    expect(marked("Merino Wool Beanie", "beanei")).toBe("Merino Wool [Beanie]");
    expect(marked("Blue Shirt", "blu shrt")).toBe("[Blu]e Shirt"); // "shrt" has 4 letters: no typo forgiven
    expect(marked("Stoneware Mug", "stonewera")).toBe("[Stoneware] Mug"); // 9 letters: two edits
  });

  it("leaves the text alone when nothing matches or nothing is searched", () => {
    expect(marked("Blue Shirt", "lamp")).toBe("Blue Shirt");
    expect(marked("Blue Shirt", "")).toBe("Blue Shirt");
    expect(marked("Blue Shirt", "  ,. ")).toBe("Blue Shirt");
    expect(marked("Blue Shirt", "ue")).toBe("Blue Shirt"); // inside a word is not a match
  });

  it("treats punctuation in the search and the name as word breaks", () => {
    expect(marked("Pour-Over Coffee Kettle", "over, kettle!")).toBe("Pour-[Over] Coffee [Kettle]");
    expect(marked("Trail Daypack 20L", "20")).toBe("Trail Daypack [20]L");
    expect(marked("Café Crème", "CAFÉ")).toBe("[Café] Crème");
  });

  it("ignores accents, as the search does, and marks the original letters", () => {
    expect(marked("Café Crème", "cafe cre")).toBe("[Café] [Crè]me");
    expect(marked("Crème Brûlée", "creme brulee")).toBe("[Crème] [Brûlée]");
    expect(marked("Straßenkarte", "strass")).toBe("[Straß]enkarte");
    expect(marked("Ærø Jumper", "aero")).toBe("[Ærø] Jumper");
  });

  it("counts edits with transpositions as one", () => {
    expect(editDistance("shirt", "shrit", 2)).toBe(1);
    expect(editDistance("shirt", "shirts", 2)).toBe(1);
    expect(editDistance("kitten", "sitting", 5)).toBe(3);
    expect(editDistance("abc", "abcdef", 1)).toBe(2); // gives up above the limit
  });
});

describe("<Highlight>", () => {
  it("wraps the matched parts in <mark>", () => {
    const { container } = render(<Highlight text="Blue Shirt" query="blue shi" />);
    expect(container.innerHTML).toBe("<mark>Blue</mark> <mark>Shi</mark>rt");
    expect(container.textContent).toBe("Blue Shirt");
  });

  it("escapes the name and the search: markup in either stays text", () => {
    const name = `<img src=x onerror="alert(1)"> Mug`;
    const { container } = render(<Highlight text={name} query={`<img mug`} />);
    expect(container.querySelector("img")).toBeNull();
    expect(container.textContent).toBe(name);
    expect([...container.querySelectorAll("mark")].map((m) => m.textContent)).toEqual(["img", "Mug"]);
  });

  it("renders the plain text without a search", () => {
    const { container } = render(<Highlight text="Blue Shirt" query=" " />);
    expect(container.innerHTML).toBe("Blue Shirt");
  });
});
