/**
 * Bookings: the parties of a booking and the emails they get. (Creation,
 * reads and status changes are added below; cancellation lives in
 * booking-cancellation.ts because account deletion uses it too.)
 */
import { eq, inArray } from "drizzle-orm";
import { clientProfiles, coachProfiles, users, type Booking } from "../../drizzle/schema.ts";
import type { Executor } from "../db/client.ts";
import type { Email } from "./notifications.ts";
import { isoUtc } from "../lib/time.ts";

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
  | { kind: "refunded" };

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
  return recipients
    .filter(({ party }) => deliverable(party) && !excludeUserIds.includes(party.id))
    .map(({ party, other, role }) => {
      const withWhom = role === "client" ? `your coach ${displayName(other)}` : `your client ${displayName(other)}`;
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
              ? role === "client" ? "\nThe payment is refunded in full." : "\nThe client is refunded in full."
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
      }
    });
}
