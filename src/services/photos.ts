/**
 * Profile photos in R2 (the UPLOADS bucket).
 *
 * The type is decided by the file's first bytes (JPEG, PNG, WebP signatures),
 * never by its name or the client's Content-Type; the object is stored under
 * a random key with the detected type, and served by GET /photos/{key}. Keys
 * are never reused, so the served object can be cached forever.
 */
import type { Database } from "../db/client.ts";
import { AppError, badRequest, forbidden } from "../lib/errors.ts";
import { stripImageMetadata } from "../lib/image-metadata.ts";
import { setProfilePhotoUrl } from "./profiles.ts";

/** 5 MB as the old backend counted it (5 * 1024 * 1024). */
export const MAX_PHOTO_BYTES = 5 * 1024 * 1024;

export const PHOTO_TYPES = {
  jpeg: { contentType: "image/jpeg", extension: "jpg" },
  png: { contentType: "image/png", extension: "png" },
  webp: { contentType: "image/webp", extension: "webp" },
} as const;

export type PhotoType = keyof typeof PHOTO_TYPES;

const PNG_SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

function startsWith(bytes: Uint8Array, signature: readonly number[], offset = 0): boolean {
  if (bytes.length < offset + signature.length) return false;
  return signature.every((byte, index) => bytes[offset + index] === byte);
}

const ascii = (text: string) => [...text].map((char) => char.charCodeAt(0));

/** The image type by magic bytes, or undefined when the bytes are none of JPEG/PNG/WebP. */
export function detectImageType(bytes: Uint8Array): PhotoType | undefined {
  if (startsWith(bytes, [0xff, 0xd8, 0xff])) return "jpeg";
  if (startsWith(bytes, PNG_SIGNATURE)) return "png";
  // RIFF <4-byte size> WEBP
  if (startsWith(bytes, ascii("RIFF")) && startsWith(bytes, ascii("WEBP"), 8)) return "webp";
  return undefined;
}

/** Object keys this module creates: a UUID and the detected extension. */
const PHOTO_KEY = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}\.(jpg|png|webp)$/;

export function isPhotoKey(key: string): boolean {
  return PHOTO_KEY.test(key);
}

/** The R2 key behind a photo URL this module made, or undefined for any other URL. */
export function photoKeyFromUrl(url: string | null | undefined): string | undefined {
  if (!url) return undefined;
  const match = /\/photos\/([^/?#]+)$/.exec(url);
  const key = match?.[1];
  return key && isPhotoKey(key) ? key : undefined;
}

export function photoUrl(baseUrl: string, key: string): string {
  return `${baseUrl.replace(/\/$/, "")}/photos/${key}`;
}

/** Best effort: a photo left behind is an orphan object, never a failed request. */
export async function deletePhotoObject(bucket: R2Bucket | undefined, url: string | null | undefined): Promise<void> {
  const key = photoKeyFromUrl(url);
  if (!key || !bucket) return;
  try {
    await bucket.delete(key);
  } catch (error) {
    console.error(JSON.stringify({ level: "error", msg: "photo delete failed", key, error: String(error) }));
  }
}

export interface PhotoUpload {
  userId: string;
  role: "client" | "coach" | "admin";
  file: Blob;
  baseUrl: string;
  now: Date;
}

/**
 * Checks size and type, stores the object, points the profile at it and
 * removes the photo it replaces. The object is written before the database
 * (a failed commit deletes it again), and the old one is deleted only after
 * the commit, so the profile never points at a missing object.
 */
export async function uploadProfilePhoto(db: Database, bucket: R2Bucket, upload: PhotoUpload): Promise<string> {
  const { userId, role, file, now } = upload;
  if (role === "admin") throw forbidden("Admins have no profile to put a photo on");
  if (file.size > MAX_PHOTO_BYTES) {
    throw new AppError("PAYLOAD_TOO_LARGE", `The photo exceeds ${MAX_PHOTO_BYTES / (1024 * 1024)} MB`, {
      max_bytes: MAX_PHOTO_BYTES,
      size: file.size,
    });
  }
  if (file.size === 0) throw badRequest("The photo is empty", { field: "photo" });
  const uploaded = new Uint8Array(await file.arrayBuffer());
  const type = detectImageType(uploaded);
  if (!type)
    throw badRequest("The photo must be a JPEG, PNG or WebP image (judged by its content)", {
      field: "photo",
      allowed: ["image/jpeg", "image/png", "image/webp"],
    });

  // Location, camera and author metadata never leave the upload (served photos are public).
  const bytes = await stripImageMetadata(uploaded);
  const { contentType, extension } = PHOTO_TYPES[type];
  const key = `${crypto.randomUUID()}.${extension}`;
  await bucket.put(key, bytes, {
    httpMetadata: { contentType, cacheControl: "public, max-age=31536000, immutable" },
    customMetadata: { userId },
  });
  const url = photoUrl(upload.baseUrl, key);
  let previous: string | null;
  try {
    // One statement, no open transaction around R2: the put is done, the delete comes after.
    previous = await setProfilePhotoUrl(db, userId, role, url, now);
  } catch (error) {
    await bucket.delete(key).catch(() => {});
    throw error;
  }
  if (previous !== url) await deletePhotoObject(bucket, previous);
  return url;
}
