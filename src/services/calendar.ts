/**
 * The per-user iCalendar feed (RFC 5545) of booked sessions.
 *
 * A secret URL instead of OAuth: every calendar app (Google, Outlook, Apple)
 * can subscribe to it. The token is random (256 bits), stored only as its
 * SHA-256, one per user; asking again replaces it, which revokes the old URL.
 *
 * Events: UID `<booking id>@culturebridge` (stable, so an update replaces the
 * event instead of duplicating it), times in UTC, SEQUENCE = bookings.sequence
 * (bumped on every change), and recently cancelled sessions kept with
 * STATUS:CANCELLED so subscribed calendars remove them.
 */

import { and, asc, eq, gte, inArray, or, sql } from "drizzle-orm";
import ical, { ICalEventStatus } from "ical-generator";
import { bookings, calendarFeeds, clientProfiles, coachProfiles, users } from "../../drizzle/schema.ts";
import type { Database } from "../db/client.ts";
import { notFound } from "../lib/errors.ts";
import { DAY_MS } from "../lib/time.ts";
import { randomToken, sha256Hex } from "../lib/tokens.ts";

/** Cancelled sessions stay in the feed this long, so subscribers see the cancellation. */
const CANCELLED_VISIBLE_MS = 30 * DAY_MS;
/** Past sessions older than this are left out (feeds stay small). */
const HISTORY_MS = 365 * DAY_MS;
/** Suggested refresh interval for subscribers. */
const REFRESH_SECONDS = 60 * 60;

export function feedUrl(publicBaseUrl: string, token: string): string {
  return `${publicBaseUrl.replace(/\/$/, "")}/calendar/feed/${token}.ics`;
}

/** Issues (or rotates) the caller's feed token; returns the plain token, never stored. */
export async function rotateFeedToken(db: Database, userId: string, now: Date): Promise<string> {
  const token = randomToken();
  const tokenHash = await sha256Hex(token);
  await db
    .insert(calendarFeeds)
    .values({ userId, tokenHash, createdAt: now })
    .onConflictDoUpdate({ target: calendarFeeds.userId, set: { tokenHash, createdAt: now } });
  return token;
}

interface FeedBooking {
  id: string;
  clientId: string;
  coachId: string;
  sessionDatetime: Date;
  durationMinutes: number;
  status: "pending" | "confirmed" | "completed" | "cancelled";
  meetingLink: string | null;
  notes: string | null;
  sequence: number;
  createdAt: Date;
  updatedAt: Date;
  clientFirst: string | null;
  clientLast: string | null;
  coachFirst: string | null;
  coachLast: string | null;
}

const fullName = (first: string | null, last: string | null, fallback: string) =>
  [first, last].filter(Boolean).join(" ").trim() || fallback;

/** Renders the calendar of one user's sessions (pure: used by the route and by tests). */
export function renderFeed(userId: string, rows: FeedBooking[], now: Date): string {
  const calendar = ical({
    name: "CultureBridge sessions",
    description: "Your coaching sessions booked on CultureBridge",
    prodId: { company: "CultureBridge", product: "Bookings", language: "EN" },
    ttl: REFRESH_SECONDS,
  });
  for (const row of rows) {
    const asCoach = row.coachId === userId;
    const other = asCoach
      ? fullName(row.clientFirst, row.clientLast, "your client")
      : fullName(row.coachFirst, row.coachLast, "your coach");
    const description = [
      asCoach ? `Coaching session with your client ${other}.` : `Coaching session with your coach ${other}.`,
      row.meetingLink ? `Meeting link: ${row.meetingLink}` : undefined,
      row.notes ? `Notes: ${row.notes}` : undefined,
      `Booking ${row.id}`,
    ]
      .filter(Boolean)
      .join("\n");
    calendar.createEvent({
      id: `${row.id}@culturebridge`,
      start: row.sessionDatetime,
      end: new Date(row.sessionDatetime.getTime() + row.durationMinutes * 60_000),
      summary: `CultureBridge session with ${other}`,
      description,
      url: row.meetingLink,
      location: row.meetingLink,
      status: row.status === "cancelled" ? ICalEventStatus.CANCELLED : ICalEventStatus.CONFIRMED,
      sequence: row.sequence,
      created: row.createdAt,
      lastModified: row.updatedAt,
      // DTSTAMP: when this version of the event was produced.
      stamp: row.updatedAt.getTime() > now.getTime() ? now : row.updatedAt,
    });
  }
  return calendar.toString();
}

/**
 * The feed behind a token; 404 for an unknown token or an inactive account.
 * One round trip: the token's owner (a CTE) left-joined to the owner's
 * bookings, so an unknown token gives no row at all and a known one with no
 * sessions gives one row without a booking.
 */
export async function feedForToken(db: Database, token: string, now: Date): Promise<string> {
  const tokenHash = await sha256Hex(token);
  const owner = db.$with("owner").as(
    db
      .select({ ownerId: sql<string>`${calendarFeeds.userId}`.as("owner_id") })
      .from(calendarFeeds)
      .innerJoin(users, eq(users.id, calendarFeeds.userId))
      .where(and(eq(calendarFeeds.tokenHash, tokenHash), eq(users.isActive, true)))
      .limit(1),
  );
  const rows = await db
    .with(owner)
    .select({
      ownerId: owner.ownerId,
      id: bookings.id,
      clientId: bookings.clientId,
      coachId: bookings.coachId,
      sessionDatetime: bookings.sessionDatetime,
      durationMinutes: bookings.durationMinutes,
      status: bookings.status,
      meetingLink: bookings.meetingLink,
      notes: bookings.notes,
      sequence: bookings.sequence,
      createdAt: bookings.createdAt,
      updatedAt: bookings.updatedAt,
      clientFirst: clientProfiles.firstName,
      clientLast: clientProfiles.lastName,
      coachFirst: coachProfiles.firstName,
      coachLast: coachProfiles.lastName,
    })
    .from(owner)
    .leftJoin(
      bookings,
      and(
        or(eq(bookings.clientId, owner.ownerId), eq(bookings.coachId, owner.ownerId)),
        gte(bookings.sessionDatetime, new Date(now.getTime() - HISTORY_MS)),
        or(
          inArray(bookings.status, ["confirmed", "completed"]),
          and(eq(bookings.status, "cancelled"), gte(bookings.updatedAt, new Date(now.getTime() - CANCELLED_VISIBLE_MS))),
        ),
      ),
    )
    .leftJoin(clientProfiles, eq(clientProfiles.userId, bookings.clientId))
    .leftJoin(coachProfiles, eq(coachProfiles.userId, bookings.coachId))
    .orderBy(asc(bookings.sessionDatetime))
    .limit(2000);
  const first = rows[0];
  if (!first) throw notFound("Calendar feed");
  const sessions: FeedBooking[] = [];
  for (const row of rows) {
    // The left join's columns are all null together: the owner has no session in the feed.
    if (
      row.id === null ||
      row.clientId === null ||
      row.coachId === null ||
      row.sessionDatetime === null ||
      row.durationMinutes === null
    )
      continue;
    if (row.status === null || row.sequence === null || row.createdAt === null || row.updatedAt === null) continue;
    sessions.push({
      ...row,
      id: row.id,
      clientId: row.clientId,
      coachId: row.coachId,
      sessionDatetime: row.sessionDatetime,
      durationMinutes: row.durationMinutes,
      status: row.status,
      sequence: row.sequence,
      createdAt: row.createdAt,
      updatedAt: row.updatedAt,
    });
  }
  return renderFeed(first.ownerId, sessions, now);
}
