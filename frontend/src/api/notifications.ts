/** The messages the shop sent the caller (administrators see everyone's). */
import { get, type Answer, type Query, type ReadOptions } from "./client";

export type NotificationsQuery = Query<"list_notifications">;

/** `GET /notifications`: newest first. */
export function listNotifications(
  query: NotificationsQuery = {},
  options: ReadOptions = {},
): Promise<Answer<"list_notifications">> {
  return get<Answer<"list_notifications">>("/notifications", { ...options, query });
}
