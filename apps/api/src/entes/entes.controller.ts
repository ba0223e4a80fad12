import { Body, Controller, Get, HttpCode, Post, Query } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import {
  IsEmail,
  IsIn,
  IsInt,
  IsNotEmpty,
  IsOptional,
  IsString,
  Matches,
  Max,
  MaxLength,
  Min,
  ValidateBy,
  type ValidationOptions,
} from 'class-validator';
import { DataSource } from 'typeorm';
import {
  AlreadyExistsError,
  EnteNotFoundError,
  ForbiddenError,
  isCodiceFiscaleEnte,
  RuleViolationError,
  type Actor,
} from '@app/common';
import { EnteRepository, type EnteRecord } from '@app/persistence';
import { CurrentActor } from '../auth/auth.guard';
import { EnteDto } from './ente.dto';

const IsCodiceFiscaleEnte = (opts?: ValidationOptions): PropertyDecorator =>
  ValidateBy(
    {
      name: 'isCodiceFiscaleEnte',
      validator: {
        validate: (v: unknown) => typeof v === 'string' && isCodiceFiscaleEnte(v),
        defaultMessage: () => 'codiceFiscale must be 11 digits with a valid check digit',
      },
    },
    opts,
  );

export class CreateEnteDto {
  @ApiProperty({ enum: ['COMUNE', 'UNIONE'] }) @IsIn(['COMUNE', 'UNIONE']) kind!:
    'COMUNE' | 'UNIONE';
  @ApiProperty({ example: 'Chianni' })
  @IsString()
  @IsNotEmpty()
  @MaxLength(200)
  denominazione!: string;
  @ApiProperty({ example: 'c_c609' })
  @Matches(/^[a-z0-9_]{2,20}$/, {
    message: 'codiceIpa must be lowercase letters, digits or _ (2-20)',
  })
  codiceIpa!: string;
  @ApiPropertyOptional({
    example: '050012',
    description: 'comuni only: 6 digits, kept as a string',
  })
  @IsOptional()
  @Matches(/^[0-9]{6}$/, { message: 'codiceIstat must be exactly 6 digits' })
  codiceIstat?: string;
  @ApiPropertyOptional({ example: 'C609' })
  @IsOptional()
  @Matches(/^[A-Z][0-9]{3}$/, { message: 'codiceCatastale must be a capital letter and 3 digits' })
  codiceCatastale?: string;
  @ApiPropertyOptional({ example: '00000000000' })
  @IsOptional()
  @IsCodiceFiscaleEnte()
  codiceFiscale?: string;
  @ApiPropertyOptional({ example: 'protocollo@pec.comune-chianni.invalid' })
  @IsOptional()
  @IsEmail()
  pec?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) regione?: string;
  @ApiPropertyOptional() @IsOptional() @IsString() @MaxLength(100) provincia?: string;
  @ApiPropertyOptional({ minimum: 0, maximum: 100_000_000 })
  @IsOptional()
  @IsInt()
  @Min(0)
  @Max(100_000_000) // a Postgres integer; no ente is larger
  popolazione?: number;
  @ApiPropertyOptional({ description: 'codice IPA of the unione a comune belongs to' })
  @IsOptional()
  @Matches(/^[a-z0-9_]{2,20}$/, { message: 'unione must be a codice IPA' })
  unione?: string;
}

export class ListEntiQueryDto {
  @ApiPropertyOptional({ example: 'u_valdera' })
  @IsOptional()
  @Matches(/^[a-z0-9_]{2,20}$/)
  unione?: string;
}

/** The ente registry (comuni and unioni). Admins register entes; everybody authenticated can read them. */
@ApiTags('entes')
@ApiBearerAuth()
@Controller('v1/entes')
export class EntesController {
  private readonly repo: EnteRepository;

  constructor(ds: DataSource) {
    this.repo = new EnteRepository(ds);
  }

  @Get()
  @ApiOperation({ operationId: 'listEntes', summary: 'List entes (comuni and unioni)' })
  @ApiOkResponse({
    type: [EnteDto],
    description: 'entes of the caller’s unione (all for a platform admin)',
  })
  @ApiResponse({ status: 400, description: 'VALIDATION_FAILED: unione is not a codice IPA' })
  @ApiResponse({
    status: 403,
    description: 'FORBIDDEN: unione names another Unione than the caller’s',
  })
  list(@Query() q: ListEntiQueryDto, @CurrentActor() actor: Actor): Promise<EnteRecord[]> {
    // a tenant's user asking for another Unione is told so, not answered its own Unione's entes
    if (actor.unione !== null && q.unione !== undefined && q.unione !== actor.unione)
      throw new ForbiddenError(`Si elencano solo gli enti della propria Unione (${actor.unione})`);
    const unione = actor.unione ?? q.unione;
    return this.repo.list(unione ? { unione } : {});
  }

  @Post()
  @HttpCode(201)
  @ApiOperation({
    operationId: 'registerEnte',
    summary: 'Register or update an ente',
    description:
      'Admins only (an Unione’s admin: the comuni of its Unione and the Unione itself); an ente is created or updated by its codice IPA. An update changes only the fields sent (omitted ones are kept); every change is audited in the ente registry chain.',
  })
  @ApiResponse({ status: 201, type: EnteDto, description: 'created or updated (by codice IPA)' })
  @ApiResponse({
    status: 400,
    description: 'VALIDATION_FAILED: a code is malformed (the field is named)',
  })
  @ApiResponse({
    status: 403,
    description: 'FORBIDDEN: admins only; an Unione’s admin only for the entes of its Unione',
  })
  @ApiResponse({ status: 409, description: 'ALREADY_EXISTS: a code belongs to another ente' })
  @ApiResponse({
    status: 422,
    description:
      'RULE_VIOLATION / ENTE_NOT_FOUND: inconsistent kind, a registered ente’s kind changed (KIND_IMMUTABLE), unknown unione',
  })
  async create(@Body() dto: CreateEnteDto, @CurrentActor() actor: Actor): Promise<EnteRecord> {
    if (!actor.roles.includes('admin'))
      throw new ForbiddenError('Solo un amministratore può registrare enti');
    // an update changes only what it names: the rules apply to the ente as it will be
    const existing = (await this.repo.findByCodes([dto.codiceIpa])).get(dto.codiceIpa);
    // a comune never becomes an unione nor the reverse: turning one into the other would leave comuni belonging
    // to a comune, drop a comune from its unione, and change what its organs may do in running processes
    if (existing && existing.kind !== dto.kind) {
      throw new RuleViolationError(
        'KIND_IMMUTABLE',
        `Il tipo di un ente registrato non cambia: ${dto.codiceIpa} è ${existing.kind}`,
        [{ field: 'kind', errors: [`must be ${existing.kind}, the kind ${dto.codiceIpa} has`] }],
      );
    }
    const codiceIstat = dto.codiceIstat ?? existing?.codiceIstat ?? null;
    const unione = dto.unione ?? existing?.unione ?? null;
    // an Unione's own admin (token unione set) registers the entes of its Unione only: neither another
    // Unione's comuni (nor moving one into its own) nor an Unione; platform admins (unione null) any
    if (actor.unione !== null) {
      const before = existing
        ? existing.kind === 'UNIONE'
          ? existing.codiceIpa
          : existing.unione
        : actor.unione;
      const after = dto.kind === 'UNIONE' ? dto.codiceIpa : unione;
      if (before !== actor.unione || after !== actor.unione)
        throw new ForbiddenError(
          `Un amministratore dell’Unione ${actor.unione} registra solo gli enti della propria Unione`,
        );
    }
    if (dto.kind === 'COMUNE' && !codiceIstat) {
      throw new RuleViolationError('ISTAT_REQUIRED', 'Un comune ha un codice ISTAT', [
        { field: 'codiceIstat', errors: ['required for a comune'] },
      ]);
    }
    if (dto.kind === 'UNIONE' && (dto.codiceIstat || dto.unione)) {
      throw new RuleViolationError(
        'NOT_FOR_UNIONE',
        'Un’unione non ha codice ISTAT né unione di appartenenza',
        [
          {
            field: dto.codiceIstat ? 'codiceIstat' : 'unione',
            errors: ['not allowed for an unione'],
          },
        ],
      );
    }
    if (dto.unione) {
      const u = (await this.repo.findByCodes([dto.unione])).get(dto.unione);
      if (!u || u.kind !== 'UNIONE') throw new EnteNotFoundError([dto.unione]);
    }
    try {
      await this.repo.save(
        {
          kind: dto.kind,
          denominazione: dto.denominazione,
          codiceIpa: dto.codiceIpa,
          codiceIstat: dto.kind === 'UNIONE' ? null : codiceIstat,
          codiceCatastale: dto.codiceCatastale,
          codiceFiscale: dto.codiceFiscale,
          pec: dto.pec,
          regione: dto.regione,
          provincia: dto.provincia,
          popolazione: dto.popolazione,
          unione: dto.kind === 'UNIONE' ? null : unione,
        },
        { subject: actor.subject, role: 'admin' },
      );
    } catch (err) {
      if ((err as { code?: string }).code === '23505') {
        throw new AlreadyExistsError(`Codice già registrato per un altro ente`, {
          fields: [{ field: 'codiceIstat', errors: ['already used by another ente'] }],
        });
      }
      throw err;
    }
    return (await this.repo.findByCodes([dto.codiceIpa])).get(dto.codiceIpa)!;
  }
}
