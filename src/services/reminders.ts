/**
 * Session reminders (contract v2): the cron sends both parties an email 24 h
 * and 1 h before each confirmed session, each exactly once, also when cron runs
 * overlap or fail half-way.
 *
 * Exactly once = a claim row per (booking, kind, session time) in
 * booking_reminders, inserted with ON CONFLICT DO NOTHING ... RETURNING in the
 * same transaction as the outbox rows of the emails:
 *  - overlapping runs: the second run's insert waits for the first's
 *    uncommitted claim, then does nothing, so it returns (and sends) nothing;
 *  - a run failing before its commit leaves neither claim nor email, and the
 *    next run (every 5 minutes) sends it;
 *  - the outbox row is the durable hand-off: the queue consumer and the cron's
 *    redispatch deliver it (retried up to 5 times).
 * A rescheduled booking has a new session time, hence new claims: it is
 * reminded again for the new time.
 *
 * Windows: "24h" from 24 h before the start until 1 h before it, "1h" from 1 h
 * before until the start; a session confirmed late gets only what is still due.
 */
import { sql } from "drizzle-orm";
import type { Database } from "../db/client.ts";
import type { ServiceEnv } from "../env.ts";
import { bookingEmails } from "./booking-emails.ts";
import { dispatchEmails, recordEmails } from "./notifications.ts";

/** Claims per run at most (the next run takes the rest). */
const BATCH = 200;

interface ClaimedRow extends Record<string, unknown> {
  kind: "24h" | "1h";
  booking_id: string;
  session_datetime: string;
  duration_minutes: number;
  meeting_link: string | null;
  client_id: string;
  client_email: string;
  client_first: string | null;
  client_last: string | null;
  coach_id: string;
  coach_email: string;
  coach_first: string | null;
  coach_last: string | null;
}

/** Claims the due reminders and records their emails; returns how many reminders (bookings x kinds) were claimed. */
export async function sendDueReminders(db: Database, env: ServiceEnv, now: Date): Promise<number> {
  const at = now.toISOString();
  const outboxIds = await db.transaction(async (tx) => {
    const claimed = await tx.execute<ClaimedRow>(sql`
      with due as (
        select b.id, k.kind, b.session_datetime
          from bookings b
          cross join (values ('24h', interval '24 hours', interval '1 hour'), ('1h', interval '1 hour', interval '0'))
                  as k(kind, lead, until)
         where b.status = 'confirmed'
           and b.session_datetime > ${at}::timestamptz
           and b.session_datetime <= ${at}::timestamptz + interval '24 hours'
           and b.session_datetime - k.lead <= ${at}::timestamptz
           and b.session_datetime - k.until > ${at}::timestamptz
           and not exists (select 1 from booking_reminders r
                            where r.booking_id = b.id and r.kind = k.kind and r.session_datetime = b.session_datetime)
         order by b.session_datetime
         limit ${BATCH}),
      claimed as (
        insert into booking_reminders (booking_id, kind, session_datetime, claimed_at)
        select id, kind, session_datetime, ${at}::timestamptz from due
        on conflict do nothing
        returning booking_id, kind)
      select c.kind, b.id as booking_id, b.session_datetime, b.duration_minutes, b.meeting_link,
             cu.id as client_id, cu.email as client_email,
             coalesce(ck.first_name, cc.first_name) as client_first, coalesce(ck.last_name, cc.last_name) as client_last,
             ku.id as coach_id, ku.email as coach_email,
             coalesce(kk.first_name, kc.first_name) as coach_first, coalesce(kk.last_name, kc.last_name) as coach_last
        from claimed c
        join bookings b on b.id = c.booking_id
        join users cu on cu.id = b.client_id
        join users ku on ku.id = b.coach_id
        left join client_profiles cc on cc.user_id = cu.id
        left join coach_profiles ck on ck.user_id = cu.id
        left join client_profiles kc on kc.user_id = ku.id
        left join coach_profiles kk on kk.user_id = ku.id`);
    const emails = claimed.rows.flatMap((row) =>
      bookingEmails(
        {
          id: row.booking_id,
          sessionDatetime: new Date(row.session_datetime),
          durationMinutes: row.duration_minutes,
          meetingLink: row.meeting_link,
        },
        {
          client: {
            id: row.client_id,
            email: row.client_email,
            firstName: row.client_first,
            lastName: row.client_last,
            photoUrl: null,
          },
          coach: {
            id: row.coach_id,
            email: row.coach_email,
            firstName: row.coach_first,
            lastName: row.coach_last,
            photoUrl: null,
          },
        },
        { kind: "reminder", lead: row.kind },
      ),
    );
    return { ids: await recordEmails(tx, emails), claimed: claimed.rows.length };
  });
  await dispatchEmails(env, outboxIds.ids);
  return outboxIds.claimed;
}
