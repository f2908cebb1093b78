/**
 * POST /profile/photo and GET /photos/{key}: happy, error and security cases.
 */
import { afterAll, describe, expect, it } from "vitest";
import { type CallResult, call, expectEnvelope, get, post } from "../helpers/api.ts";
import { closeTestPool, query } from "../helpers/db.ts";
import { createClient, createCoach, createUser } from "../helpers/fixtures.ts";

afterAll(closeTestPool);

const MB = 1024 * 1024;
const PNG = Uint8Array.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a, 0, 0, 0, 13, 0x49, 0x48, 0x44, 0x52, 1, 2, 3, 4]);
const JPEG = Uint8Array.from([0xff, 0xd8, 0xff, 0xe0, 0, 16, 0x4a, 0x46, 0x49, 0x46, 0, 1, 9, 8, 7]);
const WEBP = Uint8Array.from([...Buffer.from("RIFF"), 26, 0, 0, 0, ...Buffer.from("WEBPVP8 "), 1, 2, 3, 4]);

function padded(head: Uint8Array, size: number): Uint8Array {
  const bytes = new Uint8Array(size);
  bytes.set(head);
  return bytes;
}

function upload(
  token: string | undefined,
  bytes: Uint8Array,
  options: { field?: string; name?: string; type?: string } = {},
): Promise<CallResult> {
  const form = new FormData();
  form.append(
    options.field ?? "photo",
    new Blob([bytes], { type: options.type ?? "application/octet-stream" }),
    options.name ?? "photo.bin",
  );
  return call("POST", "/profile/photo", { rawBody: form, ...(token ? { token } : {}) });
}

async function fetchPhoto(url: string): Promise<Response> {
  // photo_url carries the test Worker's public origin
  return fetch(url);
}

describe("POST /profile/photo", () => {
  describe("happy", () => {
    it("stores a PNG, points the profile at it and serves it with its detected type", async () => {
      const client = await createClient();
      const result = await upload(client.token, PNG, { name: "me.png", type: "image/png" });
      expect(result.status, result.text).toBe(200);
      expect(typeof result.body.message).toBe("string");
      expect(result.body.photo_url).toMatch(/\/photos\/[0-9a-f-]{36}\.png$/);
      const me = await get("/profile", { token: client.token });
      expect(me.body.profile.photo_url).toBe(result.body.photo_url);
      const served = await fetchPhoto(result.body.photo_url);
      expect(served.status).toBe(200);
      expect(served.headers.get("content-type")).toBe("image/png");
      expect(served.headers.get("x-content-type-options")).toBe("nosniff");
      expect(new Uint8Array(await served.arrayBuffer())).toEqual(PNG);
    });

    it("accepts JPEG and WebP, the field `file`, and a 5 MB file exactly", async () => {
      const coach = await createCoach();
      const jpeg = await upload(coach.token, JPEG, { field: "file" });
      expect(jpeg.status, jpeg.text).toBe(200);
      expect(jpeg.body.photo_url).toMatch(/\.jpg$/);
      const webp = await upload(coach.token, WEBP);
      expect(webp.status).toBe(200);
      expect(webp.body.photo_url).toMatch(/\.webp$/);
      expect((await fetchPhoto(webp.body.photo_url)).headers.get("content-type")).toBe("image/webp");
      const max = await upload(coach.token, padded(JPEG, 5 * MB));
      expect(max.status).toBe(200);
    });

    it("removes the replaced photo from storage", async () => {
      const coach = await createCoach();
      const first = await upload(coach.token, JPEG);
      const second = await upload(coach.token, PNG);
      expect(second.body.photo_url).not.toBe(first.body.photo_url);
      expect((await fetchPhoto(first.body.photo_url)).status).toBe(404);
      expect((await fetchPhoto(second.body.photo_url)).status).toBe(200);
    });

    it("creates a minimal profile for a user who has none yet, and bumps the coaches version for a coach", async () => {
      const coach = await createUser("coach");
      const [before] = await query<{ value: string }>("SELECT value FROM app_counters WHERE name = 'coaches_version'");
      const result = await upload(coach.token, PNG);
      expect(result.status).toBe(200);
      const me = await get("/profile", { token: coach.token });
      expect(me.body.profile).toMatchObject({ user_id: coach.id, photo_url: result.body.photo_url, hourly_rate: null });
      const [after] = await query<{ value: string }>("SELECT value FROM app_counters WHERE name = 'coaches_version'");
      expect(Number(after?.value)).toBeGreaterThan(Number(before?.value ?? 0));
    });

    it("answers 304 to a conditional GET with the ETag", async () => {
      const client = await createClient();
      const { photo_url } = (await upload(client.token, PNG)).body;
      const first = await fetchPhoto(photo_url);
      const etag = first.headers.get("etag");
      expect(etag).toBeTruthy();
      const again = await fetch(photo_url, { headers: { "if-none-match": etag as string } });
      expect(again.status).toBe(304);
    });
  });

  describe("error", () => {
    it("refuses a file disguised as PNG (name and type say PNG, bytes do not) with 400", async () => {
      const client = await createClient();
      const fake = new TextEncoder().encode("<svg xmlns='http://www.w3.org/2000/svg'><script>alert(1)</script></svg>");
      const result = await upload(client.token, fake, { name: "avatar.png", type: "image/png" });
      expectEnvelope(result, 400, "VALIDATION_ERROR");
      const gif = await upload(client.token, new TextEncoder().encode("GIF89a......"), { name: "a.png", type: "image/png" });
      expectEnvelope(gif, 400, "VALIDATION_ERROR");
      expect((await get("/profile", { token: client.token })).body.profile.photo_url).toBeNull();
    });

    it("refuses 5 MB + 1 byte with 413 PAYLOAD_TOO_LARGE", async () => {
      const client = await createClient();
      const result = await upload(client.token, padded(PNG, 5 * MB + 1));
      expectEnvelope(result, 413, "PAYLOAD_TOO_LARGE");
      expect((await get("/profile", { token: client.token })).body.profile.photo_url).toBeNull();
    });

    it("refuses a request without a file, an empty file and a JSON body with 400", async () => {
      const client = await createClient();
      const form = new FormData();
      form.append("photo", "just text");
      expectEnvelope(await call("POST", "/profile/photo", { rawBody: form, token: client.token }), 400, "VALIDATION_ERROR");
      expectEnvelope(await upload(client.token, new Uint8Array(0)), 400, "VALIDATION_ERROR");
      expectEnvelope(await post("/profile/photo", { photo: "iVBORw0KGgo=" }, { token: client.token }), 400, "VALIDATION_ERROR");
    });
  });

  describe("security", () => {
    // Real container layouts carrying a GPS position: an EXIF APP1 segment in a
    // JPEG, an eXIf + tEXt chunk in a PNG, an EXIF chunk in a VP8X WebP.
    const GPS = Buffer.from("GPSLatitude=40.4168N;GPSLongitude=3.7038W");
    const be16 = (n: number) => [(n >> 8) & 0xff, n & 0xff];
    const be32 = (n: number) => [(n >>> 24) & 0xff, (n >>> 16) & 0xff, (n >>> 8) & 0xff, n & 0xff];
    const le32 = (n: number) => [n & 0xff, (n >>> 8) & 0xff, (n >>> 16) & 0xff, (n >>> 24) & 0xff];
    const exifPayload = Buffer.concat([Buffer.from("Exif\0\0MM\0*\0\0\0\x08", "binary"), GPS]);
    const jpegWithExif = Uint8Array.from([
      0xff,
      0xd8, // SOI
      0xff,
      0xe1,
      ...be16(exifPayload.length + 2),
      ...exifPayload, // APP1 Exif
      0xff,
      0xdb,
      ...be16(4),
      0,
      1, // DQT (stand-in)
      0xff,
      0xda,
      ...be16(4),
      1,
      2,
      0x11,
      0x22,
      0x33, // SOS + scan data
      0xff,
      0xd9, // EOI
    ]);
    const pngChunk = (type: string, data: Uint8Array) => [...be32(data.length), ...Buffer.from(type), ...data, 0, 0, 0, 0];
    const pngWithExif = Uint8Array.from([
      0x89,
      0x50,
      0x4e,
      0x47,
      0x0d,
      0x0a,
      0x1a,
      0x0a,
      ...pngChunk("IHDR", Uint8Array.from([0, 0, 0, 1, 0, 0, 0, 1, 8, 2, 0, 0, 0])),
      ...pngChunk("eXIf", Uint8Array.from(GPS)),
      ...pngChunk("tEXt", Uint8Array.from(Buffer.from("Comment\0taken at home"))),
      ...pngChunk("IDAT", Uint8Array.from([1, 2, 3])),
      ...pngChunk("IEND", new Uint8Array()),
    ]);
    const riffChunk = (type: string, data: Uint8Array) => [
      ...Buffer.from(type),
      ...le32(data.length),
      ...data,
      ...(data.length % 2 ? [0] : []),
    ];
    const webpBody = [
      ...riffChunk("VP8X", Uint8Array.from([0x08, 0, 0, 0, 0, 0, 0, 0, 0, 0])),
      ...riffChunk("VP8 ", Uint8Array.from([1, 2, 3, 4])),
      ...riffChunk("EXIF", Uint8Array.from(GPS)),
    ];
    const webpWithExif = Uint8Array.from([
      ...Buffer.from("RIFF"),
      ...le32(webpBody.length + 4),
      ...Buffer.from("WEBP"),
      ...webpBody,
    ]);

    it("strips EXIF/GPS metadata before storing: the served JPEG, PNG and WebP carry no location", async () => {
      const coach = await createCoach();
      for (const [bytes, type] of [
        [jpegWithExif, "image/jpeg"],
        [pngWithExif, "image/png"],
        [webpWithExif, "image/webp"],
      ] as const) {
        expect(Buffer.from(bytes).includes(GPS)).toBe(true);
        const result = await upload(coach.token, bytes);
        expect(result.status, result.text).toBe(200);
        const served = await fetchPhoto(result.body.photo_url);
        expect(served.headers.get("content-type")).toBe(type);
        const stored = Buffer.from(await served.arrayBuffer());
        expect(stored.includes(GPS), type).toBe(false);
        expect(stored.includes(Buffer.from("taken at home")), type).toBe(false);
        expect(stored.length).toBeGreaterThan(0);
      }
    });

    it("needs a token (401); admins have no profile (403)", async () => {
      expectEnvelope(await upload(undefined, PNG), 401, "UNAUTHORIZED");
      const admin = await createUser("admin");
      expectEnvelope(await upload(admin.token, PNG), 403, "FORBIDDEN");
    });

    it("serves only keys it made: unknown, malformed and traversal keys are 404", async () => {
      for (const key of ["00000000-0000-0000-0000-000000000000.png", "..%2F..%2Fetc%2Fpasswd", "photo.svg", "x"]) {
        expectEnvelope(await get(`/photos/${key}`), 404, "NOT_FOUND");
      }
    });

    it("names the stored type from the bytes, not from the client's header", async () => {
      const client = await createClient();
      const result = await upload(client.token, JPEG, { name: "x.html", type: "text/html" });
      expect(result.status).toBe(200);
      expect((await fetchPhoto(result.body.photo_url)).headers.get("content-type")).toBe("image/jpeg");
    });
  });
});
