import { describe, expect, it } from "vitest";
import {
  altTextProblem,
  imageFileProblem,
  MAX_IMAGE_BYTES,
  megabytes,
  moveImage,
  percent,
  srcSet,
} from "../src/lib/images";

const variant = (width: number) => ({ url: `/media/abc/${width}.jpg`, width, height: (width * 3) / 4 });

describe("an image's srcset", () => {
  it("names every variant at its width, narrowest first", () => {
    const image = { ...variant(960), variants: [variant(320), variant(960)] };
    expect(srcSet(image)).toBe("/media/abc/320.jpg 320w, /media/abc/960.jpg 960w");
  });

  it("puts variants in order of width whatever order they came in", () => {
    const image = { ...variant(960), variants: [variant(960), variant(640), variant(320)] };
    expect(srcSet(image)).toBe("/media/abc/320.jpg 320w, /media/abc/640.jpg 640w, /media/abc/960.jpg 960w");
  });

  it("falls back to the image itself when it has no variants", () => {
    expect(srcSet({ ...variant(960), variants: [] })).toBe("/media/abc/960.jpg 960w");
  });
});

describe("a file before it is uploaded", () => {
  const file = (type: string, size: number, name = "photo.png") => ({ name, type, size });

  it("may be a JPEG, PNG or WebP image of up to 5 MB", () => {
    expect(imageFileProblem(file("image/jpeg", 1000, "photo.jpg"))).toBeNull();
    expect(imageFileProblem(file("image/png", 1000))).toBeNull();
    expect(imageFileProblem(file("image/webp", MAX_IMAGE_BYTES, "photo.webp"))).toBeNull();
  });

  it("is refused when it is not one of those types, naming the file", () => {
    expect(imageFileProblem(file("image/gif", 1000, "cat.gif"))).toBe("cat.gif is not a JPEG, PNG or WebP image.");
    expect(imageFileProblem(file("text/plain", 10, "notes.txt"))).toBe("notes.txt is not a JPEG, PNG or WebP image.");
    expect(imageFileProblem(file("", 10, "unknown"))).toBe("unknown is not a JPEG, PNG or WebP image.");
  });

  it("is refused over 5 MB, saying how large it is", () => {
    expect(imageFileProblem(file("image/jpeg", MAX_IMAGE_BYTES + 1, "big.jpg"))).toBe(
      "big.jpg is 5.1 MB; an image can be at most 5 MB.",
    );
    expect(imageFileProblem(file("image/jpeg", 6.5 * 1024 * 1024, "huge.jpg"))).toBe(
      "huge.jpg is 6.5 MB; an image can be at most 5 MB.",
    );
  });

  it("is refused when it is empty", () => {
    expect(imageFileProblem(file("image/png", 0))).toBe("photo.png is empty.");
  });

  it("has its size said in megabytes with one decimal, rounded up", () => {
    expect(megabytes(1024 * 1024)).toBe("1.0 MB");
    expect(megabytes(1024 * 1024 + 1)).toBe("1.1 MB");
    expect(megabytes(300 * 1024)).toBe("0.3 MB");
  });
});

describe("an image's alt text", () => {
  it("is required, and blanks do not count", () => {
    expect(altTextProblem("")).toBe("Describe the image for people who cannot see it.");
    expect(altTextProblem("   ")).toBe("Describe the image for people who cannot see it.");
  });

  it("may be up to 250 characters, counted as characters rather than UTF-16 units", () => {
    expect(altTextProblem("A blue mug on a table")).toBeNull();
    expect(altTextProblem("x".repeat(250))).toBeNull();
    expect(altTextProblem("☕".repeat(250))).toBeNull();
    expect(altTextProblem("😀".repeat(250))).toBeNull();
    expect(altTextProblem("x".repeat(251))).toBe("Use at most 250 characters (this is 251).");
  });
});

describe("moving an image", () => {
  const ids = ["a", "b", "c"];

  it("swaps it with its neighbour above or below", () => {
    expect(moveImage(ids, 1, -1)).toEqual(["b", "a", "c"]);
    expect(moveImage(ids, 1, 1)).toEqual(["a", "c", "b"]);
    expect(moveImage(ids, 0, 1)).toEqual(["b", "a", "c"]);
  });

  it("keeps the order when it would go past either end", () => {
    expect(moveImage(ids, 0, -1)).toEqual(ids);
    expect(moveImage(ids, 2, 1)).toEqual(ids);
    expect(moveImage(ids, 5, -1)).toEqual(ids);
  });

  it("leaves the list it was given as it was", () => {
    const order = [...ids];
    moveImage(order, 0, 1);
    expect(order).toEqual(ids);
  });
});

describe("upload progress", () => {
  it("is a whole percentage between 0 and 100", () => {
    expect(percent(0, 200)).toBe(0);
    expect(percent(101, 200)).toBe(51);
    expect(percent(200, 200)).toBe(100);
    expect(percent(250, 200)).toBe(100);
  });

  it("is 0 while the total is not known", () => {
    expect(percent(100, 0)).toBe(0);
    expect(percent(100, Number.NaN)).toBe(0);
  });
});
