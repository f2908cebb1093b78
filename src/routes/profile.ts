/**
 * Profile routes (contract: Profiles) and the photo route that streams
 * profile photos from R2. Thin: validate -> services -> shape.
 */
import { createRoute, z } from "@hono/zod-openapi";
import type { Context } from "hono";
import { ClientProfileSchema, CoachProfileSchema } from "../contract/profiles.ts";
import { availabilitySchema } from "../lib/availability.ts";
import { badRequest, fieldError, forbidden, notFound } from "../lib/errors.ts";
import {
  currencyField,
  freeTextList,
  hourlyRateField,
  httpUrlField,
  languageList,
  nameField,
  phoneField,
  timeZoneField,
} from "../lib/fields.ts";
import { bearerSecurity, errorResponses, jsonContent } from "../lib/openapi.ts";
import { quizSchema } from "../lib/quiz.ts";
import { createRouter, type RouterEnv } from "../lib/router.ts";
import { requireIso } from "../lib/time.ts";
import { requireUser } from "../middleware/auth.ts";
import { deleteAccount } from "../services/account-deletion.ts";
import { isPhotoKey, MAX_PHOTO_BYTES, uploadProfilePhoto } from "../services/photos.ts";
import {
  type ClientProfileChanges,
  type CoachProfileChanges,
  exportAccount,
  getOwnProfile,
  serializeClientProfile,
  serializeCoachProfile,
  upsertClientProfile,
  upsertCoachProfile,
} from "../services/profiles.ts";

const MAX_PREFERENCES_CHARS = 10_000;

/**
 * PUT /profile body: the union of the client and the coach fields, strict.
 * Unknown keys and the read-only fields (id, user_id, photo_url, rating,
 * total_sessions, is_verified, created_at, ...) are a 400, never silently
 * ignored, so a client learns at once that it cannot set them (no mass
 * assignment). The fields of the other role are a 400 too (checked below).
 */
const ProfileUpdateSchema = z
  .object({
    first_name: nameField.nullable().optional(),
    last_name: nameField.nullable().optional(),
    // client
    phone: phoneField.nullable().optional(),
    timezone: timeZoneField.nullable().optional(),
    quiz_data: quizSchema.optional().openapi({ description: "Client only. All 20 factors, valid, or the PUT is refused" }),
    preferences: z
      .record(z.string(), z.unknown())
      .refine(
        (value) => JSON.stringify(value).length <= MAX_PREFERENCES_CHARS,
        `At most ${MAX_PREFERENCES_CHARS} characters of JSON`,
      )
      .optional()
      .openapi({ description: "Client only. Free-form settings object" }),
    // coach
    bio: z.string().trim().max(5000).nullable().optional().openapi({ description: "Coach only" }),
    intro_video_url: httpUrlField.nullable().optional().openapi({ description: "Coach only. http(s) URL" }),
    expertise: freeTextList.optional().openapi({ description: "Coach only" }),
    languages: languageList.optional().openapi({ description: "Coach only. From the fixed language list, case-insensitive" }),
    countries: freeTextList.optional().openapi({ description: "Coach only" }),
    hourly_rate: hourlyRateField.optional().openapi({ description: "Coach only. 25.00-500.00", example: 120 }),
    currency: currencyField.optional().openapi({ description: "Coach only. ISO 4217", example: "EUR" }),
    availability: availabilitySchema.optional().openapi({ description: "Coach only" }),
  })
  .strict()
  .openapi("ProfileUpdate", {
    description:
      "Partial update: absent fields stay unchanged, null clears a nullable field. Clients may send " +
      "first_name, last_name, phone, timezone, quiz_data, preferences; coaches first_name, last_name, bio, " +
      "intro_video_url, expertise, languages, countries, hourly_rate, currency, availability. Anything else is " +
      "a 400.",
  });

type ProfileUpdate = z.infer<typeof ProfileUpdateSchema>;

const CLIENT_FIELDS = [
  "first_name",
  "last_name",
  "phone",
  "timezone",
  "quiz_data",
  "preferences",
] as const satisfies readonly (keyof ProfileUpdate)[];
const COACH_FIELDS = [
  "first_name",
  "last_name",
  "bio",
  "intro_video_url",
  "expertise",
  "languages",
  "countries",
  "hourly_rate",
  "currency",
  "availability",
] as const satisfies readonly (keyof ProfileUpdate)[];

/** 400 listing every field that the caller's role does not have. */
function rejectFieldsOfOtherRole(update: ProfileUpdate, role: "client" | "coach"): void {
  const allowed: readonly string[] = role === "client" ? CLIENT_FIELDS : COACH_FIELDS;
  const foreign = Object.keys(update).filter((key) => !allowed.includes(key));
  if (foreign.length > 0) {
    throw badRequest(
      `These fields are not part of a ${role} profile`,
      fieldError(foreign, "body", `Not a ${role} profile field`),
    );
  }
}

const ProfileObject = z.union([ClientProfileSchema, CoachProfileSchema]);

const OwnProfileSchema = z
  .object({
    user_id: z.string().guid(),
    email: z.string(),
    role: z.enum(["client", "coach", "admin"]),
    is_active: z.boolean(),
    email_verified: z.boolean(),
    profile: ProfileObject.nullable().openapi({
      description: "ClientProfile or CoachProfile by role; null until created (always null for admins)",
    }),
  })
  .openapi("OwnProfile");

const PhotoResponse = z.object({ photo_url: z.string(), message: z.string() }).openapi("PhotoUploaded");

const binaryFile = z.any().openapi({ type: "string", format: "binary" });

const ExportSchema = z
  .object({
    user: z.record(z.string(), z.unknown()),
    profile: ProfileObject.nullable(),
    bookings: z.array(z.record(z.string(), z.unknown())),
    payments: z.array(z.record(z.string(), z.unknown())),
    posts: z.array(z.record(z.string(), z.unknown())),
    comments: z.array(z.record(z.string(), z.unknown())),
    bookmarks: z.array(z.record(z.string(), z.unknown())),
    post_votes: z.array(z.record(z.string(), z.unknown())),
    resources: z.array(z.record(z.string(), z.unknown())),
    exported_at: z.string(),
  })
  .openapi("AccountExport");

/** Photo URLs point at the configured public origin (readConfig requires it outside development). */
function publicBase(c: Context<RouterEnv>): string {
  return c.var.config.publicBaseUrl;
}

const getProfileRoute = createRoute({
  method: "get",
  path: "/profile",
  tags: ["Profiles"],
  summary: "The caller's account and profile",
  security: bearerSecurity,
  responses: { 200: jsonContent(OwnProfileSchema, "The caller's profile"), ...errorResponses(401, 403) },
});

const putProfileRoute = createRoute({
  method: "put",
  path: "/profile",
  tags: ["Profiles"],
  summary: "Create or update the caller's client or coach profile (partial)",
  security: bearerSecurity,
  request: { body: { required: true, content: { "application/json": { schema: ProfileUpdateSchema } } } },
  responses: {
    200: jsonContent(ProfileObject, "The profile object (ClientProfile or CoachProfile)"),
    ...errorResponses(401, 403),
  },
});

const photoRoute = createRoute({
  method: "post",
  path: "/profile/photo",
  tags: ["Profiles"],
  summary:
    `Upload the profile photo (multipart field "photo" or "file"; JPEG, PNG or WebP by content; at most ` +
    `${MAX_PHOTO_BYTES / (1024 * 1024)} MB)`,
  description:
    "The photo is stored in object storage and served at the returned `photo_url` (GET /photos/{key}). The previous photo is deleted.",
  security: bearerSecurity,
  request: {
    body: {
      required: true,
      content: {
        "multipart/form-data": {
          schema: z.object({ photo: binaryFile.optional(), file: binaryFile.optional() }).openapi("PhotoUpload"),
        },
      },
    },
  },
  responses: { 200: jsonContent(PhotoResponse, "Photo stored"), ...errorResponses(401, 403, 413) },
});

const servePhotoRoute = createRoute({
  method: "get",
  path: "/photos/{key}",
  tags: ["Profiles"],
  summary: "A profile photo (public: photo URLs are unguessable and meant for <img> tags)",
  request: {
    params: z.object({
      key: z.string().openapi({ param: { name: "key", in: "path" }, example: "0b9c3c3e-2f7e-4a59-9d43-2a4d7a1f2b11.jpg" }),
    }),
  },
  responses: {
    200: {
      description: "The image",
      content: {
        "image/jpeg": { schema: binaryFile },
        "image/png": { schema: binaryFile },
        "image/webp": { schema: binaryFile },
      },
    },
    304: { description: "Not modified (If-None-Match)" },
    ...errorResponses(404),
  },
});

const exportRoute = createRoute({
  method: "get",
  path: "/profile/export",
  tags: ["Profiles"],
  summary: "Everything stored about the caller (GDPR export), without secrets",
  security: bearerSecurity,
  responses: { 200: jsonContent(ExportSchema, "The caller's data"), ...errorResponses(401) },
});

const deleteRoute = createRoute({
  method: "delete",
  path: "/profile",
  tags: ["Profiles"],
  summary: "Delete the caller's account (future bookings cancelled first; financial records kept under an anonymised tombstone)",
  security: bearerSecurity,
  responses: { 204: { description: "Account deleted" }, ...errorResponses(401, 409, 503) },
});

export const profileRoutes = createRouter()
  .openapi(getProfileRoute, async (c) => {
    const caller = requireUser(c);
    const { user, profile } = await getOwnProfile(c.var.db, caller.id);
    return c.json(
      {
        user_id: user.id,
        email: user.email,
        role: user.role,
        is_active: user.isActive,
        email_verified: user.emailVerified,
        profile,
      },
      200,
    );
  })
  .openapi(putProfileRoute, async (c) => {
    const caller = requireUser(c);
    if (caller.role === "admin") throw forbidden("Admins have no client or coach profile");
    const update = c.req.valid("json");
    rejectFieldsOfOtherRole(update, caller.role);
    if (caller.role === "client") {
      const row = await upsertClientProfile(c.var.db, caller.id, update as ClientProfileChanges, c.var.now);
      return c.json(serializeClientProfile(row), 200);
    }
    const row = await upsertCoachProfile(c.var.db, caller.id, update as CoachProfileChanges, c.var.now);
    return c.json(serializeCoachProfile(row), 200);
  })
  .openapi(photoRoute, async (c) => {
    const caller = requireUser(c);
    const form = c.req.valid("form") as Record<string, unknown>;
    const candidate = [form.photo, form.file].flat().find((value) => value instanceof Blob);
    if (!(candidate instanceof Blob)) {
      throw badRequest(
        'Send the image as multipart/form-data in the field "photo" (or "file")',
        fieldError("photo", "body", "Required file"),
      );
    }
    const photoUrl = await uploadProfilePhoto(c.var.db, c.env.UPLOADS, {
      userId: caller.id,
      role: caller.role,
      file: candidate,
      baseUrl: publicBase(c),
      now: c.var.now,
    });
    return c.json({ photo_url: photoUrl, message: "Profile photo updated" }, 200);
  })
  .openapi(servePhotoRoute, async (c) => {
    const { key } = c.req.valid("param");
    if (!isPhotoKey(key)) throw notFound("Photo");
    const object = await c.env.UPLOADS.get(key, { onlyIf: c.req.raw.headers });
    if (!object) throw notFound("Photo");
    const headers = new Headers();
    object.writeHttpMetadata(headers);
    headers.set("etag", object.httpEtag);
    headers.set("cache-control", "public, max-age=31536000, immutable");
    if (!("body" in object)) return new Response(null, { status: 304, headers });
    headers.set("content-length", String(object.size));
    return new Response(object.body, { status: 200, headers });
  })
  .openapi(exportRoute, async (c) => {
    const caller = requireUser(c);
    const data = await exportAccount(c.var.db, caller.id, c.var.now);
    c.header("content-disposition", `attachment; filename="culturebridge-export-${requireIso(c.var.now).slice(0, 10)}.json"`);
    return c.json(data as z.infer<typeof ExportSchema>, 200);
  })
  .openapi(deleteRoute, async (c) => {
    const caller = requireUser(c);
    await deleteAccount(c.var.db, c.var.deps, { userId: caller.id, byAdmin: false, now: c.var.now });
    return c.body(null, 204);
  });
