import type { QueueStanding } from '../persistence/responses.store';

/** The window over which the pace of background work is read (completions per second). */
export const PACE_SECONDS = 300;

/**
 * When a queued background response may start (unix seconds), our extension field
 * `estimated_start_at` (docs/background.md#scheduling): at once when nothing is ahead of it; else
 * after those ahead, at the pace background responses completed over the last PACE_SECONDS; a
 * windowed one at the latest when it must start. Null when there is no pace to go by.
 */
export function estimatedStart(standing: QueueStanding, nowMs: number): number | null {
  const perSecond = standing.completedRecently / PACE_SECONDS;
  const byPace = standing.ahead === 0 ? nowMs : perSecond > 0 ? nowMs + (standing.ahead / perSecond) * 1000 : Infinity;
  const at = Math.min(byPace, standing.startBy?.getTime() ?? Infinity);
  return Number.isFinite(at) ? Math.ceil(at / 1000) : null;
}
