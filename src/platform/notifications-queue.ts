/** The NOTIFICATIONS queue's message: the id of an `email_outbox` row to deliver. */
export interface EmailMessage {
  outboxId: string;
}
