import { Body, Controller, Delete, Get, HttpCode, Inject, Param, Post } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiCreatedResponse,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiTags,
  ApiUnprocessableEntityResponse,
} from '@nestjs/swagger';
import { IsOptional, IsString, IsUrl, Matches, MaxLength } from 'class-validator';
import { DataSource } from 'typeorm';
import {
  EnteNotFoundError,
  ForbiddenError,
  ValidationFailedError,
  WebhookNotFoundError,
  type Actor,
  type IterConfig,
} from '@app/common';
import {
  NOTIFICATION_CONFIG,
  WebhookSubscriptions,
  type NotificationConfig,
  type WebhookView,
  type WebhookWithSecret,
} from '@app/notifications';
import { EnteRepository } from '@app/persistence';
import { ITER_CONFIG } from '@app/runtime';
import { CurrentActor } from '../auth/auth.guard';
import { UuidPipe } from '../http/uuid.pipe';
import { WebhookDto, WebhookWithSecretDto } from './notification.dto';

export class CreateWebhookDto {
  @ApiProperty({ example: 'https://protocollo.unione-valdera.invalid/iter-webhook' })
  @IsUrl(
    { protocols: ['http', 'https'], require_protocol: true, require_tld: false },
    { message: 'url must be an http(s) URL' },
  )
  @MaxLength(2000)
  url!: string;

  @ApiPropertyOptional({ example: 'Protocollo informatico' })
  @IsOptional()
  @IsString()
  @MaxLength(200)
  description?: string;

  @ApiPropertyOptional({
    example: 'u_valdera',
    description: 'platform admins only: the Unione the subscription is for',
  })
  @IsOptional()
  @Matches(/^[a-z0-9_]{2,20}$/, { message: 'unione must be a codice IPA' })
  unione?: string;
}

/** admin or staff/presidente of an Unione (token ente = unione) act on their Unione; platform admins on any */
function scopeOf(actor: Actor): string | null | undefined {
  if (actor.roles.includes('admin') && actor.unione === null) return null;
  if (
    actor.unione !== null &&
    actor.ente === actor.unione &&
    actor.roles.some((r) => r === 'admin' || r === 'staff' || r === 'presidente')
  )
    return actor.unione;
  return undefined;
}

@ApiTags('webhooks')
@ApiBearerAuth()
@Controller('v1/webhooks')
export class WebhooksController {
  private readonly subs: WebhookSubscriptions;
  private readonly entes: EnteRepository;

  constructor(
    ds: DataSource,
    @Inject(ITER_CONFIG) private readonly config: IterConfig,
    @Inject(NOTIFICATION_CONFIG) notifications: NotificationConfig,
  ) {
    this.subs = new WebhookSubscriptions(ds, notifications.webhookSecretOverlapMs);
    this.entes = new EnteRepository(ds);
  }

  private scope(actor: Actor): string | null {
    const s = scopeOf(actor);
    if (s === undefined)
      throw new ForbiddenError(
        'Solo un amministratore o gli uffici dell’Unione gestiscono i webhook',
      );
    return s;
  }

  @Post()
  @ApiOperation({
    operationId: 'createWebhook',
    summary: 'Subscribe a URL to the Unione’s notifications; the signing secret is shown once',
  })
  @ApiCreatedResponse({
    type: WebhookWithSecretDto,
    description: 'the subscription with its secret (shown only now)',
  })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: url, description, unione' })
  @ApiForbiddenResponse({
    description: 'FORBIDDEN: not an admin or the Unione’s staff, or another Unione',
  })
  @ApiUnprocessableEntityResponse({
    description: 'ENTE_NOT_FOUND: the unione is not an Unione of the ente registry',
  })
  async create(
    @Body() dto: CreateWebhookDto,
    @CurrentActor() actor: Actor,
  ): Promise<WebhookWithSecret> {
    const scope = this.scope(actor);
    let unione: string;
    if (scope === null) {
      if (!dto.unione)
        throw new ValidationFailedError([
          { field: 'unione', errors: ['required for a platform admin'] },
        ]);
      unione = dto.unione;
    } else {
      if (dto.unione !== undefined && dto.unione !== scope)
        throw new ForbiddenError(`Si gestiscono solo i webhook della propria Unione (${scope})`);
      unione = scope;
    }
    // a subscription for an Unione the registry does not know would never receive anything
    if ((await this.entes.findByCodes([unione])).get(unione)?.kind !== 'UNIONE')
      throw new EnteNotFoundError([unione]);
    if (this.config.nodeEnv === 'production' && !dto.url.startsWith('https://'))
      throw new ValidationFailedError([{ field: 'url', errors: ['must be https in production'] }]);
    return this.subs.create(unione, dto.url, dto.description ?? null, actor.subject);
  }

  @Get()
  @ApiOperation({
    operationId: 'listWebhooks',
    summary: 'The Unione’s webhook subscriptions (no secrets)',
  })
  @ApiOkResponse({ type: [WebhookDto], description: 'subscriptions, oldest first' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: not an admin or the Unione’s staff' })
  list(@CurrentActor() actor: Actor): Promise<WebhookView[]> {
    return this.subs.list(this.scope(actor));
  }

  @Delete(':id')
  @HttpCode(204)
  @ApiOperation({ operationId: 'deleteWebhook', summary: 'Remove a subscription' })
  @ApiNoContentResponse({ description: 'removed' })
  @ApiBadRequestResponse({ description: 'INVALID_ID: not a uuid' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: not an admin or the Unione’s staff' })
  @ApiNotFoundResponse({ description: 'WEBHOOK_NOT_FOUND: unknown, or another Unione’s' })
  async remove(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor): Promise<void> {
    if (!(await this.subs.remove(id, this.scope(actor)))) throw new WebhookNotFoundError(id);
  }

  @Post(':id/rotate-secret')
  @HttpCode(200)
  @ApiOperation({
    operationId: 'rotateWebhookSecret',
    summary:
      'A new signing secret; the previous one keeps signing for WEBHOOK_SECRET_OVERLAP_HOURS',
  })
  @ApiOkResponse({
    type: WebhookWithSecretDto,
    description: 'the subscription with its new secret (shown only now)',
  })
  @ApiBadRequestResponse({ description: 'INVALID_ID: not a uuid' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: not an admin or the Unione’s staff' })
  @ApiNotFoundResponse({ description: 'WEBHOOK_NOT_FOUND: unknown, or another Unione’s' })
  async rotate(
    @Param('id', UuidPipe) id: string,
    @CurrentActor() actor: Actor,
  ): Promise<WebhookWithSecret> {
    const r = await this.subs.rotate(id, this.scope(actor));
    if (!r) throw new WebhookNotFoundError(id);
    return r;
  }
}
