import { describe, expect, it } from "vitest";
import { normalizeTags, prefixQuery, searchWords } from "../../src/services/community/resources.ts";

describe("resource search text", () => {
  it("splits on anything that is not a letter or digit, lower-cased, Unicode-aware", () => {
    expect(searchWords("Culture-Shock in São Paulo 2026!")).toEqual(["culture", "shock", "in", "são", "paulo", "2026"]);
    expect(searchWords("東京 life")).toEqual(["東京", "life"]);
  });

  it("drops tsquery syntax, so user input cannot be a query syntax error", () => {
    expect(searchWords(`a & !b | (c:*) <-> 'd'`)).toEqual(["a", "b", "c", "d"]);
    expect(searchWords("!!! &&& ''")).toEqual([]);
  });

  it("makes every word a required prefix", () => {
    expect(prefixQuery(["negot", "cult"])).toBe("negot:* & cult:*");
  });
});

describe("resource tags", () => {
  it("are trimmed, lower-cased and de-duplicated in first-seen order", () => {
    expect(normalizeTags([" Family ", "relocation", "FAMILY", "Relocation "])).toEqual(["family", "relocation"]);
  });
});
