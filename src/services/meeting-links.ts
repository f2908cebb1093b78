/**
 * Generated meeting links (contract v2 Meeting links): when a booking becomes
 * confirmed without one, it gets MEETING_BASE_URL + "/" + an unguessable room
 * name. Used by the coach's confirmation (bookings.ts) and by the payment
 * webhook's confirmation (payments.ts), so both paths make the same links.
 *
 * The room name carries 128 random bits (crypto.getRandomValues), hex-encoded:
 * letters and digits only, so that every meeting service accepts it in a path
 * and nobody can guess another session's room.
 */
import type { Config } from "../env.ts";

const ROOM_PREFIX = "CultureBridge-";

export function meetingRoomName(): string {
  const bytes = crypto.getRandomValues(new Uint8Array(16));
  return ROOM_PREFIX + Array.from(bytes, (byte) => byte.toString(16).padStart(2, "0")).join("");
}

/** A fresh meeting link on the configured base (readConfig validated it as an http(s) URL without a trailing slash). */
export function generateMeetingLink(config: Pick<Config, "meetingBaseUrl">): string {
  return `${config.meetingBaseUrl}/${meetingRoomName()}`;
}
