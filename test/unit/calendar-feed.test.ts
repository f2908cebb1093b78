import ical, { type VEvent } from "node-ical";
import { describe, expect, it } from "vitest";
import { feedUrl, renderFeed } from "../../src/services/calendar.ts";

const clientId = "11111111-1111-4111-8111-111111111111";
const coachId = "22222222-2222-4222-8222-222222222222";

function row(overrides: Partial<Parameters<typeof renderFeed>[1][number]> = {}) {
  return {
    id: "33333333-3333-4333-8333-333333333333",
    clientId,
    coachId,
    sessionDatetime: new Date("2027-03-28T07:00:00Z"),
    durationMinutes: 90,
    status: "confirmed" as const,
    meetingLink: "https://meet.example.test/a",
    notes: "Bring questions; about Madrid, schools, etc.",
    sequence: 3,
    createdAt: new Date("2027-03-01T10:00:00Z"),
    updatedAt: new Date("2027-03-02T10:00:00Z"),
    clientFirst: "Ana",
    clientLast: "López",
    coachFirst: "Marco",
    coachLast: "Rossi",
    ...overrides,
  };
}

const parse = (text: string) => Object.values(ical.sync.parseICS(text)).filter((c) => c?.type === "VEVENT") as VEvent[];

describe("renderFeed", () => {
  it("renders RFC 5545 that node-ical parses: UID, UTC times, SEQUENCE, STATUS, escaped text", () => {
    const text = renderFeed(
      clientId,
      [row(), row({ id: "44444444-4444-4444-8444-444444444444", status: "cancelled", sequence: 5 })],
      new Date("2027-03-03T00:00:00Z"),
    );
    expect(text.startsWith("BEGIN:VCALENDAR")).toBe(true);
    expect(text).toContain("PRODID:-//CultureBridge//Bookings//EN");
    expect(text).toContain("DTSTART:20270328T070000Z");
    expect(text).toContain("DTEND:20270328T083000Z");
    // Lines are CRLF-terminated and folded at 75 octets.
    expect(text).toContain("\r\n");
    for (const line of text.split("\r\n")) expect(new TextEncoder().encode(line).length).toBeLessThanOrEqual(75);
    const [confirmed, cancelled] = parse(text);
    expect(confirmed?.uid).toBe("33333333-3333-4333-8333-333333333333@culturebridge");
    expect(confirmed?.start.toISOString()).toBe("2027-03-28T07:00:00.000Z");
    expect(Number(confirmed?.sequence)).toBe(3);
    expect(String(confirmed?.status)).toBe("CONFIRMED");
    expect(confirmed?.summary).toBe("CultureBridge session with Marco Rossi");
    expect(String(confirmed?.description)).toContain("Bring questions; about Madrid, schools, etc.");
    expect(String(cancelled?.status)).toBe("CANCELLED");
    expect(Number(cancelled?.sequence)).toBe(5);
  });

  it("names the client in the coach's feed", () => {
    const [event] = parse(renderFeed(coachId, [row()], new Date("2027-03-03T00:00:00Z")));
    expect(event?.summary).toBe("CultureBridge session with Ana López");
  });

  it("an empty feed is still a valid calendar", () => {
    const text = renderFeed(clientId, [], new Date());
    expect(text).toContain("BEGIN:VCALENDAR");
    expect(parse(text)).toHaveLength(0);
  });
});

describe("feedUrl", () => {
  it("puts the token under the public base URL with .ics", () => {
    expect(feedUrl("https://api.example.test/", "abc_DEF-123")).toBe("https://api.example.test/calendar/feed/abc_DEF-123.ics");
  });
});
