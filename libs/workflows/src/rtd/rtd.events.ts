import 'reflect-metadata'; // class-transformer's @Type needs it: keep the definitions loadable on their own
import { Type } from 'class-transformer';
import {
  ArrayMaxSize,
  ArrayMinSize,
  ArrayUnique,
  IsArray,
  IsBoolean,
  IsDateString,
  IsEmail,
  IsIn,
  IsInt,
  IsISO8601,
  IsNotEmpty,
  IsOptional,
  IsString,
  IsUUID,
  Matches,
  Max,
  MaxLength,
  Min,
  Validate,
  ValidateNested,
  ValidatorConstraint,
  type ValidatorConstraintInterface,
} from 'class-validator';
import { isCodiceFiscalePersona } from '@app/common';
import {
  ACT_TYPES,
  PUBLICATION_CHANNELS,
  RTD_LEVELS,
  type ActType,
  type PublicationChannel,
  type RtdLevel,
} from './rtd.types';

/** Payload DTOs of the RTD events, validated by the engine with whitelist + forbidNonWhitelisted. */
const ISO_DATE = /^\d{4}-\d{2}-\d{2}$/;
const CODICE_IPA = /^[a-z0-9_]{2,20}$/;
const ACT_NUMBER = /^[0-9]{1,6}(\/[0-9]{4})?$/;
const DATE_MSG = 'must be a date YYYY-MM-DD';

@ValidatorConstraint({ name: 'codiceFiscalePersona' })
class CodiceFiscalePersona implements ValidatorConstraintInterface {
  validate(value: unknown): boolean {
    return typeof value === 'string' && isCodiceFiscalePersona(value);
  }
  defaultMessage(): string {
    return 'codiceFiscale must be a person’s codice fiscale: 16 uppercase characters with a valid check character';
  }
}

export class RtdPolicyDto {
  @IsOptional() @IsInt() @Min(1) @Max(365) decreeDays?: number;
  @IsOptional() @IsInt() @Min(1) @Max(365) acceptanceDays?: number;
  @IsOptional() @IsInt() @Min(1) @Max(365) publicationDays?: number;
  @IsOptional() @IsInt() @Min(1) @Max(365) ipaDays?: number;
  @IsOptional() @IsInt() @Min(1) @Max(6) ipaRecheckMonths?: number;
  @IsOptional()
  @IsArray()
  @ArrayMaxSize(5)
  @ArrayUnique()
  @IsInt({ each: true })
  @Min(1, { each: true })
  @Max(60, { each: true })
  reminderDaysBefore?: number[];
}

export class StartRtdDto {
  /** the id of the ICT convention (process `convenzione`) that must be IN_FORCE */
  @IsUUID() convention!: string;
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(300) title?: string;
  @IsOptional() @ValidateNested() @Type(() => RtdPolicyDto) policy?: RtdPolicyDto;
}

export class CompetencesDto {
  /** adeguate competenze tecnologiche (art. 17 c.1-ter CAD), attested by the CV */
  @IsOptional() @IsBoolean() tecnologiche?: boolean;
  /** competenze di informatica giuridica */
  @IsOptional() @IsBoolean() giuridiche?: boolean;
  @IsOptional() @IsBoolean() manageriali?: boolean;
}

export class DeclarationsDto {
  /** dichiarazione di insussistenza di cause di inconferibilità (D.Lgs. 39/2013) */
  @IsBoolean() inconferibilita!: boolean;
  /** dichiarazione di insussistenza di cause di incompatibilità (D.Lgs. 39/2013) */
  @IsBoolean() incompatibilita!: boolean;
}

export class PartialDeclarationsDto {
  @IsOptional() @IsBoolean() inconferibilita?: boolean;
  @IsOptional() @IsBoolean() incompatibilita?: boolean;
}

export class SelectCandidateDto {
  @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @Validate(CodiceFiscalePersona) codiceFiscale!: string;
  /** where the decree is notified (PEC) */
  @IsOptional() @IsEmail() @MaxLength(200) pec?: string;
  @IsOptional() @IsEmail() @MaxLength(200) email?: string;
  @IsOptional() @IsIn(RTD_LEVELS) level?: RtdLevel;
  @IsOptional() @IsBoolean() enteHasDirigenti?: boolean;
  @IsOptional() @ValidateNested() @Type(() => CompetencesDto) competences?: CompetencesDto;
  @IsOptional()
  @ValidateNested()
  @Type(() => PartialDeclarationsDto)
  declarations?: PartialDeclarationsDto;
  /** last day of the underlying dirigenziale / EQ incarico */
  @IsOptional()
  @Matches(ISO_DATE, { message: DATE_MSG })
  @IsDateString({ strict: true })
  incaricoEnd?: string;
}

export class ReasonDto {
  @IsString() @IsNotEmpty() @MaxLength(2000) reason!: string;
}

export class ActDto {
  @IsIn(ACT_TYPES) type!: ActType;
  @IsString()
  @Matches(ACT_NUMBER, { message: 'must be a number, optionally /YYYY' })
  number!: string;
  @Matches(ISO_DATE, { message: DATE_MSG }) @IsDateString({ strict: true }) date!: string;
}

export class ReferenteDto {
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
  @IsString() @IsNotEmpty() @MaxLength(200) name!: string;
  @IsOptional() @IsEmail() @MaxLength(200) email?: string;
}

export class IssueDecreeDto {
  @ValidateNested() @Type(() => ActDto) act!: ActDto;
  @Matches(ISO_DATE, { message: DATE_MSG }) @IsDateString({ strict: true }) startDate!: string;
  /** months in office; the term never passes the underlying incarico */
  @IsInt() @Min(1) @Max(120) durationMonths!: number;
  /** the entes served: the Unione and the comuni of the convention in force */
  @IsArray()
  @ArrayMinSize(1)
  @ArrayMaxSize(100)
  @ArrayUnique()
  @Matches(CODICE_IPA, { each: true, message: 'each must be a codice IPA' })
  entes!: string[];
  /** the referente for the digital transition in each comune served */
  @IsArray()
  @ArrayMaxSize(100)
  @ValidateNested({ each: true })
  @Type(() => ReferenteDto)
  referenti!: ReferenteDto[];
}

export class RecordNotificationDto {
  /** PEC ricevuta di avvenuta consegna of the decree to the appointee */
  @IsISO8601({ strict: true }) deliveredAt!: string;
}

export class AcceptDto {
  @ValidateNested() @Type(() => DeclarationsDto) declarations!: DeclarationsDto;
}

export class RecordPublicationDto {
  @IsIn(PUBLICATION_CHANNELS) channel!: PublicationChannel;
  @Matches(ISO_DATE, { message: DATE_MSG }) @IsDateString({ strict: true }) date!: string;
  /** albo registration number, or the Amministrazione Trasparente section/URL */
  @IsString() @IsNotEmpty() @MaxLength(500) reference!: string;
}

export class ConfirmIpaDto {
  @Matches(CODICE_IPA, { message: 'must be a codice IPA' }) ente!: string;
  @Matches(ISO_DATE, { message: DATE_MSG }) @IsDateString({ strict: true }) registeredOn!: string;
  /** e.g. the codice univoco of the UO "Ufficio per la transizione al digitale" */
  @IsOptional() @IsString() @IsNotEmpty() @MaxLength(200) reference?: string;
}

export class RevokeDto {
  @IsString()
  @Matches(ACT_NUMBER, { message: 'must be a number, optionally /YYYY' })
  number!: string;
  @Matches(ISO_DATE, { message: DATE_MSG }) @IsDateString({ strict: true }) date!: string;
  /** first day without this RTD */
  @Matches(ISO_DATE, { message: DATE_MSG }) @IsDateString({ strict: true }) effectiveDate!: string;
  /** the decree of revocation must be motivated */
  @IsString() @IsNotEmpty() @MaxLength(4000) reason!: string;
}

export class ResignationDto {
  /** date of the letter of resignation */
  @Matches(ISO_DATE, { message: DATE_MSG }) @IsDateString({ strict: true }) date!: string;
  /** first day without this RTD */
  @Matches(ISO_DATE, { message: DATE_MSG }) @IsDateString({ strict: true }) effectiveDate!: string;
}

export class IncaricoEndDto {
  /** first day without the underlying incarico */
  @Matches(ISO_DATE, { message: DATE_MSG }) @IsDateString({ strict: true }) date!: string;
  @IsString() @IsNotEmpty() @MaxLength(2000) reason!: string;
}

/** System events (timers and signals from the convention), validated all the same. */
export class RtdDateDto {
  @Matches(ISO_DATE) date!: string;
}
export class RtdDeadlineDto {
  @IsString() @MaxLength(100) key!: string;
  @IsISO8601() dueAt!: string;
}
export class RtdReminderDto {
  @IsString() @MaxLength(100) key!: string;
  @IsInt() @Min(0) daysBefore!: number;
}
export class EnteAddDto {
  @Matches(CODICE_IPA) ente!: string;
  @Matches(ISO_DATE) date!: string;
}
export class EnteWithdrawDto {
  @Matches(CODICE_IPA) ente!: string;
  @Matches(ISO_DATE) date!: string;
  @IsString() @MaxLength(2000) reason!: string;
}
export class ConventionEndDto {
  @Matches(ISO_DATE) date!: string;
  @IsString() @MaxLength(2000) reason!: string;
}
