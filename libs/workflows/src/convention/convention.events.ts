import 'reflect-metadata'; // class-transformer's @Type needs it: keep the definitions loadable on their own
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsDateString,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateNested,
} from 'class-validator';
import {
  APPROVAL_RULES,
  NON_DELIBERATING_RULES,
  PARERE_OUTCOMES,
  PARERE_TYPES,
  type NonDeliberatingRule,
  DECORRENZA_RULES,
  DELIBERATION_OUTCOMES,
  EXECUTIVITY_READINGS,
  type ApprovalRule,
  type DecorrenzaRule,
  type DeliberationOutcome,
} from './convention.types';
import type { ExecutivityReading } from '@app/calendar';

/** Payload DTOs of the convention events, validated by the engine with whitelist + forbidNonWhitelisted. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const CODICE_IPA = /^[a-z0-9_]{2,20}$/;
const SHA256 = /^[0-9a-f]{64}$/;
/** what the field must be, in plain words (the engine reports it as is, see libs/engine/src/validation.ts) */
const DATE_MSG = 'must be a date YYYY-MM-DD (a day in Rome)';
/** a date the rules refuse in the future (422 ..._IN_FUTURE): said already in the format message */
const PAST_DATE_MSG = 'must be a date YYYY-MM-DD not after today in Rome';
const INSTANT_MSG =
  'must be a date YYYY-MM-DD (a day in Rome) or a date-time ISO 8601 such as 2026-03-10T10:00:00+01:00 (Rome time without an offset), not in the future';
const DATE = [
  Matches(ISO_DATE, { message: DATE_MSG }),
  IsDateString({ strict: true }, { message: DATE_MSG }),
];
const PAST_DATE = [
  Matches(ISO_DATE, { message: PAST_DATE_MSG }),
  IsDateString({ strict: true }, { message: PAST_DATE_MSG }),
];
/** apply several property decorators as one */
const all =
  (decorators: PropertyDecorator[]): PropertyDecorator =>
  (target, key) => {
    for (const d of decorators) d(target, key);
  };

export class ConventionPolicyDto {
  @IsOptional() @IsIn(APPROVAL_RULES) approval?: ApprovalRule;
  /** QUORUM: minimum number of comuni that must approve */
  @IsOptional() @IsInt() @Min(1) @Max(100) quorumMinEntes?: number;
  /** QUORUM: minimum share of the population (0..100) the approving comuni must hold */
  @IsOptional() @IsInt() @Min(0) @Max(100) quorumMinPopulationPct?: number;
  @IsOptional() @IsIn(NON_DELIBERATING_RULES) nonDeliberating?: NonDeliberatingRule;
  @IsOptional() @IsInt() @Min(1) @Max(365) extensionDays?: number;
  @IsOptional() @IsInt() @Min(0) @Max(60) councilNoticeDays?: number;
  @IsOptional() @IsBoolean() requirePareri?: boolean;
  @IsOptional() @IsInt() @Min(1) @Max(30) durationYears?: number;
  @IsOptional() @IsInt() @Min(0) @Max(730) recessoNoticeDays?: number;
  @IsOptional() @IsInt() @Min(1) @Max(100) minComuni?: number;
  @IsOptional() @IsInt() @Min(1) @Max(365) councilDeadlineDays?: number;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(10)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(180, { each: true })
  reminderDaysBefore?: number[];
  @IsOptional() @IsIn(EXECUTIVITY_READINGS) executivityReading?: ExecutivityReading;
  @IsOptional() @IsIn(DECORRENZA_RULES) decorrenza?: DecorrenzaRule;
  @IsOptional()
  @all(DATE)
  decorrenzaDate?: string;
  @IsOptional() @IsBoolean() costClauses?: boolean;
  /** a council term ending on a Saturday moves to the next working day (DOMAIN.md §4.1); default false */
  @IsOptional() @IsBoolean() saturdayExtends?: boolean;
}

export class StartConventionDto {
  @IsString() @IsNotEmpty() @MaxLength(300) title!: string;
  /** codice IPA of the Unione that runs the process */
  @Matches(CODICE_IPA, { message: 'must be a codice IPA (lowercase letters, digits, _)' })
  unione!: string;
  /** codici IPA of the member comuni that must approve */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique()
  @Matches(CODICE_IPA, { each: true, message: 'each must be a codice IPA' })
  members!: string[];
  @IsOptional() @ValidateNested() @Type(() => ConventionPolicyDto) policy?: ConventionPolicyDto;
}

export class FreezeTextDto {
  /** the full text of the schema di convenzione; its SHA-256 becomes the version's identity */
  @IsString() @IsNotEmpty() @MaxLength(1_000_000) text!: string;
}

export class SendToCouncilsDto {
  /** PEC ricevuta di avvenuta consegna (RdAC): the council term runs from this instant */
  @IsISO8601({ strict: true }, { message: INSTANT_MSG }) deliveredAt!: string;
}

export class VotesDto {
  @IsInt() @Min(0) @Max(1000) favorevoli!: number;
  @IsInt() @Min(0) @Max(1000) contrari!: number;
  @IsInt() @Min(0) @Max(1000) astenuti!: number;
  @IsInt() @Min(0) @Max(1000) presenti!: number;
  @IsInt() @Min(1) @Max(1000) assegnati!: number;
}

export class ParereDto {
  @IsIn(PARERE_TYPES) type!: (typeof PARERE_TYPES)[number];
  @IsIn(PARERE_OUTCOMES) outcome!: (typeof PARERE_OUTCOMES)[number];
  @IsString() @IsNotEmpty() @MaxLength(200) signer!: string;
  @all(PAST_DATE) date!: string;
}

export class RecordDeliberationDto {
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
  /** the deliberation number as in the register, e.g. "48" or "48/2026" */
  @IsString()
  @Matches(/^[0-9]{1,6}(\/[0-9]{4})?$/, { message: 'must be a number, optionally /YYYY' })
  number!: string;
  @all(PAST_DATE) date!: string;
  @IsIn(DELIBERATION_OUTCOMES) outcome!: DeliberationOutcome;
  /** SHA-256 of the text approved (for APPROVED_WITH_AMENDMENTS: of the amended text) */
  @IsOptional() @Matches(SHA256, { message: 'must be a lowercase hex SHA-256' }) textHash?: string;
  /** with APPROVED_WITH_AMENDMENTS: what the council changed */
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(20000) amendments?: string;
  /** art. 49 TUEL pareri inserted in the deliberation */
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5)
  @ValidateNested({ each: true })
  @Type(() => ParereDto)
  pareri?: ParereDto[];
  @IsOptional() @ValidateNested() @Type(() => VotesDto) votes?: VotesDto;
  @IsOptional() @IsBoolean() immediatamenteEseguibile?: boolean;
  @IsOptional() @ValidateNested() @Type(() => VotesDto) ieVotes?: VotesDto;
}

export class CertifyExecutivityDto {
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
  /** first day on the albo pretorio (counted: 15 days P..P+14) */
  @all(DATE) publicationStart!: string;
  /** the date the segretario certifies: it wins over the computed one */
  @all(PAST_DATE) executiveOn!: string;
}

export class SignConventionDto {
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
  @IsISO8601({ strict: true }, { message: INSTANT_MSG }) signedAt!: string;
  @IsIn(['FIRMA_DIGITALE', 'FEA', 'FEQ']) signatureType!: 'FIRMA_DIGITALE' | 'FEA' | 'FEQ';
  /** must be true: a convention not digitally signed is void (art. 15 c.2-bis L. 241/1990) */
  @IsBoolean() digitalSignature!: boolean;
}

export class ExtendDeadlineDto {
  /** one ente, or every ente with an open term when omitted */
  @IsOptional() @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente?: string;
  @IsInt() @Min(1) @Max(365) days!: number;
  @IsString() @IsNotEmpty() @MaxLength(2000) reason!: string;
}

export class ConveneCouncilDto {
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
  @all(DATE) sessionDate!: string;
  /** when the convocation was notified to the councillors */
  @all(PAST_DATE) noticeDate!: string;
}

export class AmendmentTextDto {
  /** the full new text; its SHA-256 identifies the new version */
  @IsString() @IsNotEmpty() @MaxLength(1_000_000) text!: string;
}

export class AdhesionOpenDto {
  /** codice IPA of a comune of the Unione that asks to join the convention in force */
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
}

export class AdhesionAcceptDto {
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
  /** the Giunta dell'Unione deliberation accepting the adhesion */
  @IsString()
  @Matches(/^[0-9]{1,6}(\/[0-9]{4})?$/, { message: 'must be a number, optionally /YYYY' })
  number!: string;
  @all(PAST_DATE) date!: string;
}

export class RecessoDto {
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
  @IsString()
  @Matches(/^[0-9]{1,6}(\/[0-9]{4})?$/, { message: 'must be a number, optionally /YYYY' })
  number!: string;
  @all(PAST_DATE) date!: string;
  @all(DATE) effectiveDate!: string;
}

export class CollectiveActDto {
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
  @IsString()
  @Matches(/^[0-9]{1,6}(\/[0-9]{4})?$/, { message: 'must be a number, optionally /YYYY' })
  number!: string;
  @all(PAST_DATE) date!: string;
}

export class RecessoEffectiveDto {
  @Matches(CODICE_IPA) ente!: string;
  @Matches(ISO_DATE) date!: string;
}

export class ExpireDto {
  @Matches(ISO_DATE) date!: string;
}

export class AbandonDto {
  @IsString() @IsNotEmpty() @MaxLength(2000) reason!: string;
}

/** Timer payloads: built by the engine from timer rows, validated all the same. */
export class ReminderDto {
  @Matches(CODICE_IPA) ente!: string;
  @IsInt() @Min(0) daysBefore!: number;
}
export class DeadlineExpireDto {
  @Matches(CODICE_IPA) ente!: string;
  @IsISO8601() dueAt!: string;
}
export class DecorrenzaDto {
  @Matches(ISO_DATE) date!: string;
}
