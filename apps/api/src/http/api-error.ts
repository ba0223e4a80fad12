/**
 * An error answered by the HTTP edge itself (body limits, characters, media types, rate limit, an unknown
 * notification): a status, a stable SCREAMING_SNAKE code and an Italian message. Domain errors stay in
 * @app/common; these belong to HTTP only. Mapped by DomainErrorFilter like every other error.
 */
export class ApiError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message);
    this.name = 'ApiError';
  }
}
