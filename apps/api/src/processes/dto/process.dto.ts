import { ApiProperty, ApiPropertyOptional } from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import {
  IsBoolean,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsObject,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
} from 'class-validator';
import { HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX } from '@app/engine';
import { PROCESS_STATUSES } from '@app/workflows';

/**
 * Validated here as one shape; in the OpenAPI document its schema is replaced by `oneOf` the definitions' start
 * requests (apps/api/src/openapi/openapi-document.ts), so a client sees each definition's input schema.
 */
export class CreateProcessDto {
  @ApiProperty({
    example: 'convenzione',
    description: 'definition key (see GET /v1/definitions); the latest version is used',
  })
  @IsString()
  @Matches(/^[a-z][a-z0-9-]{1,63}$/)
  definition!: string;

  @ApiPropertyOptional({
    example: 'convenzione-ict-2026',
    description: 'unique per unione and definition; defaults to the id',
  })
  @IsOptional()
  @IsString()
  @Matches(/^[A-Za-z0-9._-]{1,100}$/, { message: 'businessKey: 1-100 of A-Z a-z 0-9 . _ -' })
  businessKey?: string;

  @ApiProperty({
    description:
      'start input of the definition; for convenzione: { title, unione, members[], policy? }',
    example: {
      title: 'Convenzione per la gestione associata della funzione ICT',
      unione: 'u_valdera',
      members: ['c_a864', 'c_g843'],
    },
  })
  @IsObject()
  input!: Record<string, unknown>;
}

/**
 * Validated here as one shape (the engine then validates the payload against the event's DTO); in the OpenAPI
 * document its schema is replaced by `oneOf` the events, discriminated by `type` (openapi/openapi-document.ts).
 */
export class SendEventDto {
  @ApiProperty({
    example: 'convention.deliberation.record',
    description: 'event type; GET /v1/processes/:id lists the allowed ones',
  })
  @IsString()
  @Matches(/^[a-z][a-z0-9.-]{1,99}$/)
  type!: string;

  @ApiPropertyOptional({
    description: 'event payload, validated per event type (unknown fields refused)',
    example: {
      ente: 'c_g843',
      number: '48',
      date: '2026-03-20',
      outcome: 'APPROVED',
      textHash: '<sha256 of the frozen text>',
    },
  })
  @IsOptional()
  @IsObject()
  payload?: Record<string, unknown>;
}

/** The largest offset a list accepts: far beyond any real list, far below what SQL's bigint would refuse. */
export const MAX_OFFSET = 1_000_000;

/** Plain decimal digits only: `1e20`, `0x10`, ` 5`, `1.0` stay strings and fail @IsInt. */
/**
 * A query integer: decimal digits (with a sign) become the number, so the answer says what is wrong with it
 * (`-1`: must not be less than 1; `99999999999`: must not be greater than 200) rather than every rule at once;
 * anything else (`1e2`, `0x10`, `1.5`, a repeated parameter) stays as it is and is not an integer.
 */
const toDecimalInt = ({ value }: { value: unknown }) =>
  typeof value === 'string' && /^-?\d{1,30}$/.test(value) ? Number(value) : value;

const toBool = ({ value }: { value: unknown }) =>
  value === 'true' ? true : value === 'false' ? false : value;

export class ListProcessesQueryDto {
  @ApiPropertyOptional({ example: 'convenzione' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  definition?: string;
  @ApiPropertyOptional({ example: 'IN_DELIBERATION' })
  @IsOptional()
  @IsString()
  @MaxLength(64)
  state?: string;
  @ApiPropertyOptional({ example: 'active', enum: PROCESS_STATUSES })
  @IsOptional()
  @IsIn(PROCESS_STATUSES)
  status?: string;
  @ApiPropertyOptional({
    example: 'c_g843',
    description: 'processes in which this ente has something to do now',
  })
  @IsOptional()
  @Matches(/^[a-z0-9_]{2,20}$/)
  ente?: string;
  @ApiPropertyOptional({
    description: 'only processes with a deadline already passed (true) or not (false)',
  })
  @IsOptional()
  @Transform(toBool)
  @IsBoolean()
  overdue?: boolean;
  @ApiPropertyOptional({ default: 50, minimum: 1, maximum: 200 })
  @IsOptional()
  @Transform(toDecimalInt)
  @IsInt()
  @Min(1)
  @Max(200)
  limit?: number;
  @ApiPropertyOptional({ default: 0, minimum: 0, maximum: MAX_OFFSET })
  @IsOptional()
  @Transform(toDecimalInt)
  @IsInt()
  @Min(0)
  @Max(MAX_OFFSET)
  offset?: number;
}

/**
 * An instant with an explicit offset (Z or ±hh:mm). A bare date or a local time would be read in the
 * database's time zone: an auditor in Rome and the server would not mean the same moment.
 */
const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,6})?)?(Z|[+-]\d{2}:\d{2})$/;
const INSTANT_MSG =
  'must be an ISO 8601 instant with an offset, e.g. 2026-03-01T09:00:00Z or 2026-03-01T10:00:00+01:00';

export class HistoryQueryDto {
  @ApiPropertyOptional({ description: 'actor subject (exact)' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  actor?: string;
  @ApiPropertyOptional({ example: 'convention.sign', description: 'event type (exact)' })
  @IsOptional()
  @IsString()
  @IsNotEmpty()
  @MaxLength(100)
  type?: string;
  @ApiPropertyOptional({
    example: '2026-01-01T00:00:00Z',
    description: 'events that occurred at or after this instant',
  })
  @IsOptional()
  @Matches(INSTANT, { message: INSTANT_MSG })
  @IsISO8601({ strict: true }, { message: INSTANT_MSG })
  from?: string;
  @ApiPropertyOptional({
    example: '2026-12-31T23:59:59Z',
    description: 'events that occurred at or before this instant',
  })
  @IsOptional()
  @Matches(INSTANT, { message: INSTANT_MSG })
  @IsISO8601({ strict: true }, { message: INSTANT_MSG })
  to?: string;
}

/** GET /history: the filters and one keyset page (the export streams every page, so it takes no page). */
export class HistoryPageQueryDto extends HistoryQueryDto {
  @ApiPropertyOptional({
    default: 0,
    minimum: 0,
    maximum: 2_147_483_647,
    example: 120,
    description:
      'cursor: only events with seq greater than this (the seq of the last event of the previous page; 0 = from the start)',
  })
  @IsOptional()
  @Transform(toDecimalInt)
  @IsInt()
  @Min(0)
  @Max(2_147_483_647) // seq is a Postgres integer
  after?: number;
  @ApiPropertyOptional({
    default: HISTORY_PAGE_DEFAULT,
    minimum: 1,
    maximum: HISTORY_PAGE_MAX,
    description:
      'events per page; a page shorter than this is the last one (a full page also carries a Link: rel="next" header)',
  })
  @IsOptional()
  @Transform(toDecimalInt)
  @IsInt()
  @Min(1)
  @Max(HISTORY_PAGE_MAX)
  limit?: number;
}

export const EXPORT_FORMATS = ['csv', 'jsonl'] as const;
export type ExportFormat = (typeof EXPORT_FORMATS)[number];

export class HistoryExportQueryDto extends HistoryQueryDto {
  @ApiPropertyOptional({
    enum: EXPORT_FORMATS,
    default: 'csv',
    description: 'CSV (RFC 4180, payload as a JSON string) or JSON Lines',
  })
  @IsOptional()
  @IsIn(EXPORT_FORMATS)
  format?: ExportFormat;
}

export class StateAtQueryDto {
  @ApiProperty({ example: '2026-03-01T09:00:00Z', description: 'the instant to look at' })
  @Matches(INSTANT, { message: INSTANT_MSG })
  @IsISO8601({ strict: true }, { message: INSTANT_MSG })
  at!: string;
}

/** Which definition (and version) a process runs. */
export class DefinitionRefDto {
  @ApiProperty({ example: 'convenzione' }) key!: string;
  @ApiProperty({ example: 1 }) version!: number;
}

export class StateAtDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: DefinitionRefDto }) definition!: DefinitionRefDto;
  @ApiProperty({ description: 'the instant asked for, in UTC' }) at!: string;
  @ApiProperty({ description: 'the last event that had happened by then' }) seq!: number;
  @ApiProperty({ example: 'convention.send' }) eventType!: string;
  @ApiProperty() occurredAt!: string;
  @ApiProperty({ description: 'the process version then' }) version!: number;
  @ApiProperty({ example: 'IN_DELIBERATION' }) state!: string;
  @ApiProperty({ enum: PROCESS_STATUSES }) status!: string;
  @ApiProperty({ description: 'the business view then, as GET /v1/processes/:id answered it' })
  data!: Record<string, unknown>;
}

export class MovedChainDto {
  @ApiProperty({ description: 'process id, or ente-registry' }) chain!: string;
  @ApiProperty({ example: 'hash at checkpointed seq 4 differs from the checkpoint' })
  reason!: string;
}

export class CheckpointCheckDto {
  @ApiProperty({ enum: ['ok', 'mismatch', 'absent', 'untrusted'] }) status!:
    'ok' | 'mismatch' | 'absent' | 'untrusted';
  @ApiProperty({ nullable: true, type: String }) file!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) createdAt!: string | null;
  @ApiProperty({ type: [MovedChainDto] }) moved!: MovedChainDto[];
  @ApiProperty({ nullable: true, type: String, description: 'why the checkpoint is not trusted' })
  problem!: string | null;
}

export class VerifyResultDto {
  @ApiProperty() valid!: boolean;
  @ApiProperty({ description: 'events read' }) events!: number;
  @ApiProperty({
    nullable: true,
    type: Number,
    description: 'first altered, unlinked or missing seq',
  })
  firstBadSeq!: number | null;
  @ApiProperty({ nullable: true, type: String }) reason!: string | null;
  @ApiProperty({ description: 'hash of the last event that verified' }) lastHash!: string;
  @ApiPropertyOptional({
    type: CheckpointCheckDto,
    description: 'the chain compared with the latest signed checkpoint (docs/security.md)',
  })
  checkpoint?: CheckpointCheckDto;
}

export class ErrorResponseDto {
  @ApiProperty({
    example: 'TRANSITION_NOT_ALLOWED',
    pattern: '^[A-Z][A-Z0-9_]*$',
    description: 'stable machine-readable code (SCREAMING_SNAKE)',
  })
  code!: string;
  @ApiProperty({ example: "L'evento convention.sign non è ammesso nello stato IN_DELIBERATION" })
  message!: string;
  @ApiPropertyOptional({
    type: 'object',
    additionalProperties: true,
    description:
      'field errors ({ fields: [{ field, errors[] }] }), allowed events, versions, rule…',
  })
  details?: Record<string, unknown>;
}

export class AllowedEventDto {
  @ApiProperty() type!: string;
  @ApiProperty() description!: string;
  @ApiPropertyOptional({ type: [String] }) entes?: string[];
}

export class TimerViewDto {
  @ApiProperty({ example: 'deadline:c_g843' }) key!: string;
  @ApiProperty({ enum: ['reminder', 'deadline'] }) kind!: string;
  @ApiProperty() dueAt!: string;
}

export class ProcessLinkDto {
  @ApiProperty({ example: 'rtd' }) relation!: string;
  @ApiProperty({
    enum: ['to', 'from'],
    description: 'to: this process started the linked one; from: this one was started on it',
  })
  direction!: 'to' | 'from';
  @ApiProperty() instanceId!: string;
  @ApiProperty({ example: 'rtd' }) definition!: string;
  @ApiProperty({ example: 'VACANT' }) state!: string;
  @ApiProperty() title!: string;
}

export class ProcessViewDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: DefinitionRefDto }) definition!: DefinitionRefDto;
  @ApiProperty({ example: 'u_valdera' }) tenant!: string;
  @ApiProperty() businessKey!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ enum: PROCESS_STATUSES }) status!: string;
  @ApiProperty({ example: 'IN_DELIBERATION' }) state!: string;
  @ApiProperty({ description: 'send back as If-Match' }) version!: number;
  @ApiProperty({ type: [String] }) pendingEntes!: string[];
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) nextDeadline!: string | null;
  @ApiProperty() overdue!: boolean;
  @ApiProperty({
    description:
      'business view: text version and hash, one row per ente with its status and deadline',
  })
  data!: Record<string, unknown>;
  @ApiProperty({ type: [AllowedEventDto] }) allowedEvents!: AllowedEventDto[];
  @ApiProperty({ type: [TimerViewDto] }) timers!: TimerViewDto[];
  @ApiProperty() createdAt!: string;
  @ApiProperty() updatedAt!: string;
  @ApiProperty({
    type: [ProcessLinkDto],
    required: false,
    description: 'GET only: linked processes (the RTD of a convention, the convention of an RTD)',
  })
  links?: ProcessLinkDto[];
}

/** One row of GET /v1/processes. */
export class ProcessSummaryDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ type: DefinitionRefDto }) definition!: DefinitionRefDto;
  @ApiProperty({ example: 'convenzione-ict-2026' }) businessKey!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ enum: PROCESS_STATUSES }) status!: string;
  @ApiProperty({ example: 'IN_DELIBERATION' }) state!: string;
  @ApiProperty({ description: 'send back as If-Match' }) version!: number;
  @ApiProperty({ type: [String], example: ['c_g843'] }) pendingEntes!: string[];
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) nextDeadline!: string | null;
  @ApiProperty() overdue!: boolean;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
}

export class ProcessListDto {
  @ApiProperty({ type: [ProcessSummaryDto] }) items!: ProcessSummaryDto[];
  @ApiProperty({ description: 'how many processes match the filters (for paging)' })
  total!: number;
}

export class ActorRecordDto {
  @ApiProperty({ example: 'seg.g843' }) subject!: string;
  @ApiProperty({ example: 'segretario' }) role!: string;
  @ApiProperty({ nullable: true, type: String, example: 'c_g843' }) ente!: string | null;
}

/** One audit event; `payload` is the payload of the event `type` (its schema is named by the definition). */
export class HistoryEventDto {
  @ApiProperty({ example: 3 }) seq!: number;
  @ApiProperty({ example: 'convention.deliberation.record' }) type!: string;
  @ApiProperty({ description: 'the payload as accepted (replaced by the payload schemas below)' })
  payload!: Record<string, unknown>;
  @ApiProperty({ type: ActorRecordDto }) actor!: ActorRecordDto;
  @ApiProperty({ format: 'date-time' }) occurredAt!: string;
  @ApiProperty({ format: 'date-time' }) recordedAt!: string;
  @ApiProperty({ nullable: true, type: String }) stateBefore!: string | null;
  @ApiProperty() stateAfter!: string;
  @ApiProperty() versionAfter!: number;
  @ApiProperty({ description: 'hash of the previous event (64 zeros for the first)' })
  prevHash!: string;
  @ApiProperty({ description: 'SHA-256 over the canonical event and prevHash' }) hash!: string;
}
