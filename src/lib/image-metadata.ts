/**
 * Removes EXIF / XMP / GPS metadata from JPEG, PNG and WebP bytes before a
 * photo is stored (issue 19: profile photos were served with their location).
 *
 * JPEG and PNG go through exif-be-gone (a kept library, lossless: it drops the
 * metadata segments/chunks and copies the image data untouched). Its WebP path
 * measures RIFF chunks as PNG chunks (size + 12 instead of 8 + size + padding),
 * so it keeps the EXIF chunk and can cut image data; WebP is therefore
 * filtered here: a RIFF container is a flat list of chunks, and dropping the
 * EXIF / XMP chunks, clearing their VP8X flags and fixing the RIFF size is all
 * that lossless stripping takes.
 */
import { Buffer } from "node:buffer";
import ExifTransformer from "exif-be-gone";

export function stripImageMetadata(bytes: Uint8Array): Promise<Uint8Array> {
  if (isWebp(bytes)) return Promise.resolve(stripWebp(bytes));
  return new Promise((resolve, reject) => {
    const transformer = new ExifTransformer();
    const chunks: Buffer[] = [];
    transformer.on("data", (chunk: Buffer) => chunks.push(chunk));
    transformer.on("error", reject);
    transformer.on("end", () => resolve(new Uint8Array(Buffer.concat(chunks))));
    transformer.end(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength));
  });
}

const ascii = (bytes: Uint8Array, offset: number) => String.fromCharCode(...bytes.subarray(offset, offset + 4));

function isWebp(bytes: Uint8Array): boolean {
  return bytes.length >= 12 && ascii(bytes, 0) === "RIFF" && ascii(bytes, 8) === "WEBP";
}

const WEBP_METADATA_CHUNKS = new Set(["EXIF", "XMP "]);
/** VP8X feature flags (byte 0 of its payload): EXIF 0x08, XMP 0x04. */
const VP8X_METADATA_FLAGS = 0x08 | 0x04;

function stripWebp(bytes: Uint8Array): Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const kept: Uint8Array[] = [];
  let offset = 12;
  while (offset + 8 <= bytes.length) {
    const type = ascii(bytes, offset);
    const size = view.getUint32(offset + 4, true);
    // Chunks are padded to an even size; a truncated last chunk is kept as it is.
    const end = Math.min(bytes.length, offset + 8 + size + (size % 2));
    if (!WEBP_METADATA_CHUNKS.has(type)) {
      const chunk = bytes.slice(offset, end);
      if (type === "VP8X" && chunk.length > 8) chunk[8] = (chunk[8] ?? 0) & ~VP8X_METADATA_FLAGS;
      kept.push(chunk);
    }
    offset = end;
  }
  if (offset < bytes.length) kept.push(bytes.slice(offset));
  const bodyLength = kept.reduce((total, chunk) => total + chunk.length, 0);
  const out = new Uint8Array(12 + bodyLength);
  out.set(bytes.subarray(0, 12));
  new DataView(out.buffer).setUint32(4, 4 + bodyLength, true);
  let position = 12;
  for (const chunk of kept) {
    out.set(chunk, position);
    position += chunk.length;
  }
  return out;
}
