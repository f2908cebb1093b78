/** A high surrogate not followed by a low one, or a low one not preceded by a high one (no `u` flag on purpose). */
const UNPAIRED_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** What makes a string unstorable (contract v2 "Text input"), or undefined when it is fine. */
export function findUnstorableText(value: string): string | undefined {
  if (value.includes("\u0000")) return "a NUL character";
  if (UNPAIRED_SURROGATE.test(value)) return "an unpaired surrogate";
  return undefined;
}
