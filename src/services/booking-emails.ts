/**
 * The parties of a booking and the emails they get, for every booking event:
 * confirmation, cancellation, refund, and (contract v2) reschedule, reminder
 * and a replaced meeting link. Subjects say what the email is.
 */
import { eq, inArray } from "drizzle-orm";
import { type Booking, clientProfiles, coachProfiles, users } from "../../drizzle/schema.ts";
import type { BookingPartySummary } from "../contract/bookings.ts";
import type { Executor } from "../db/client.ts";
import { isoUtc } from "../lib/time.ts";
import type { Email } from "./notifications.ts";

export interface BookingParty {
  id: string;
  email: string;
  firstName: string | null;
  lastName: string | null;
  photoUrl: string | null;
}

export interface BookingParties {
  client: BookingParty;
  coach: BookingParty;
}

/** Both parties of a booking with their names (from whichever profile they have). */
export async function loadParties(db: Executor, booking: Pick<Booking, "clientId" | "coachId">): Promise<BookingParties> {
  const rows = await db
    .select({
      id: users.id,
      email: users.email,
      clientFirst: clientProfiles.firstName,
      clientLast: clientProfiles.lastName,
      clientPhoto: clientProfiles.photoUrl,
      coachFirst: coachProfiles.firstName,
      coachLast: coachProfiles.lastName,
      coachPhoto: coachProfiles.photoUrl,
    })
    .from(users)
    .leftJoin(clientProfiles, eq(clientProfiles.userId, users.id))
    .leftJoin(coachProfiles, eq(coachProfiles.userId, users.id))
    .where(inArray(users.id, [booking.clientId, booking.coachId]));
  const party = (id: string): BookingParty => {
    const row = rows.find((candidate) => candidate.id === id);
    return {
      id,
      email: row?.email ?? "",
      firstName: row?.coachFirst ?? row?.clientFirst ?? null,
      lastName: row?.coachLast ?? row?.clientLast ?? null,
      photoUrl: row?.coachPhoto ?? row?.clientPhoto ?? null,
    };
  };
  return { client: party(booking.clientId), coach: party(booking.coachId) };
}

export function displayName(party: BookingParty): string {
  const name = [party.firstName, party.lastName].filter(Boolean).join(" ").trim();
  return name || "your CultureBridge contact";
}

/** Addresses that must never get mail: deleted-account tombstones. */
function deliverable(party: BookingParty): boolean {
  return party.email.length > 0 && !party.email.endsWith("@invalid");
}

function describeSession(booking: Pick<Booking, "sessionDatetime" | "durationMinutes">): string {
  return `${isoUtc(booking.sessionDatetime)} (UTC), ${booking.durationMinutes} minutes`;
}

export type BookingNotice =
  | { kind: "confirmed" }
  | { kind: "cancelled"; refund: "full" | "none" | "pending" | "not_paid"; cancelledBy: "client" | "coach" | "admin" | "system" }
  | { kind: "refunded" }
  | { kind: "rescheduled"; from: Date; by: "client" | "coach" | "admin" }
  | { kind: "reminder"; lead: "24h" | "1h" }
  | { kind: "link_changed" };

/** The emails of one booking event, to client and coach (minus excluded ids, e.g. an account being deleted). */
export function bookingEmails(
  booking: Pick<Booking, "id" | "sessionDatetime" | "durationMinutes" | "meetingLink">,
  parties: BookingParties,
  notice: BookingNotice,
  excludeUserIds: readonly string[] = [],
): Email[] {
  const session = describeSession(booking);
  const recipients: Array<{ party: BookingParty; other: BookingParty; role: "client" | "coach" }> = [
    { party: parties.client, other: parties.coach, role: "client" },
    { party: parties.coach, other: parties.client, role: "coach" },
  ];
  return (
    recipients
      .filter(({ party }) => deliverable(party) && !excludeUserIds.includes(party.id))
      // biome-ignore lint/suspicious/useIterableCallbackReturn: the switch is exhaustive over notice.kind (tsc checks it)
      .map(({ party, other, role }) => {
        const withWhom = role === "client" ? `your coach ${displayName(other)}` : `your client ${displayName(other)}`;
        const link = booking.meetingLink ? `\nMeeting link: ${booking.meetingLink}` : "";
        switch (notice.kind) {
          case "confirmed":
            return {
              to: party.email,
              subject: "Your CultureBridge session is confirmed",
              text:
                `Your session with ${withWhom} on ${session} is confirmed (booking ${booking.id}).` +
                (booking.meetingLink ? `\nMeeting link: ${booking.meetingLink}` : ""),
            };
          case "cancelled": {
            const by = notice.cancelledBy === "system" ? "automatically (unpaid)" : `by the ${notice.cancelledBy}`;
            const refund =
              notice.refund === "full"
                ? role === "client"
                  ? "\nThe payment is refunded in full."
                  : "\nThe client is refunded in full."
                : notice.refund === "pending"
                  ? "\nA full refund has been requested from the payment provider."
                  : notice.refund === "none"
                    ? "\nPer the cancellation policy (less than 24 hours' notice) there is no refund."
                    : "";
            return {
              to: party.email,
              subject: "Your CultureBridge session was cancelled",
              text: `Your session with ${withWhom} on ${session} was cancelled ${by} (booking ${booking.id}).${refund}`,
            };
          }
          case "refunded":
            return {
              to: party.email,
              subject: "Your CultureBridge session was refunded",
              text: `The payment for the session with ${withWhom} on ${session} was refunded (booking ${booking.id}).`,
            };
          case "rescheduled": {
            const by = notice.by === role ? "by you" : `by the ${notice.by}`;
            return {
              to: party.email,
              subject: `Rescheduled: your CultureBridge session with ${displayName(other)} is now on ${isoUtc(booking.sessionDatetime)}`,
              text:
                `Your session with ${withWhom} was moved ${by} from ${isoUtc(notice.from)} (UTC) to ${session} (booking ${booking.id}).` +
                link,
            };
          }
          case "reminder":
            return {
              to: party.email,
              subject: `Reminder: your CultureBridge session with ${displayName(other)} on ${isoUtc(booking.sessionDatetime)} (UTC)`,
              text:
                `Your session with ${withWhom} starts ${notice.lead === "24h" ? "within 24 hours" : "within the hour"}: ` +
                `${session} (booking ${booking.id}).${link}`,
            };
          case "link_changed":
            return {
              to: party.email,
              subject: "Meeting link updated: your CultureBridge session",
              text: `The meeting link of your session with ${withWhom} on ${session} changed (booking ${booking.id}).${link}`,
            };
        }
      })
  );
}

export const partySummary = (party: BookingParty): BookingPartySummary => ({
  id: party.id,
  first_name: party.firstName,
  last_name: party.lastName,
  photo_url: party.photoUrl,
});
