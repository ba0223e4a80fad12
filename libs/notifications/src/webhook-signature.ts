import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';

export const SIGNATURE_HEADER = 'x-iter-signature';
export const TIMESTAMP_HEADER = 'x-iter-timestamp';
export const DELIVERY_HEADER = 'x-iter-delivery';
export const EVENT_HEADER = 'x-iter-event';
/** a receiver refuses a timestamp further than this from its clock (replay window) */
export const DEFAULT_TOLERANCE_S = 300;

/** `whsec_` + 32 random bytes, base64url */
export const newWebhookSecret = (): string => `whsec_${randomBytes(32).toString('base64url')}`;

/** hex HMAC-SHA256 of `timestamp + "." + body` */
export function sign(secret: string, timestamp: number, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
}

/** The signature header: one `v1=` per valid secret (two during a rotation). */
export function signatureHeader(
  secrets: readonly string[],
  timestamp: number,
  body: string,
): string {
  return secrets.map((s) => `v1=${sign(s, timestamp, body)}`).join(', ');
}

/**
 * What a receiver does (docs/notifications.md has the same in a standalone snippet): the timestamp is within the
 * tolerance of its clock, and one of the `v1=` signatures is the HMAC of `timestamp.body` with its secret.
 */
export function verifySignature(
  secret: string,
  header: string | undefined,
  timestampHeader: string | undefined,
  rawBody: string,
  nowS: number = Math.floor(Date.now() / 1000),
  toleranceS: number = DEFAULT_TOLERANCE_S,
): boolean {
  const ts = Number(timestampHeader);
  if (!header || !Number.isInteger(ts) || Math.abs(nowS - ts) > toleranceS) return false;
  const expected = Buffer.from(sign(secret, ts, rawBody), 'hex');
  return header
    .split(',')
    .map((p) => p.trim())
    .filter((p) => p.startsWith('v1='))
    .some((p) => {
      const got = Buffer.from(p.slice(3), 'hex');
      return got.length === expected.length && timingSafeEqual(got, expected);
    });
}
