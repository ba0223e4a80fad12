import { Controller, Get, HttpCode, Inject, Param, Post, Query } from '@nestjs/common';
import {
  ApiAcceptedResponse,
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiForbiddenResponse,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
  ApiUnprocessableEntityResponse,
  ApiExtraModels,
  getSchemaPath,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsIn, IsOptional } from 'class-validator';
import { DataSource } from 'typeorm';
import {
  ForbiddenError,
  NotificationNotFoundError,
  RuleViolationError,
  type Actor,
} from '@app/common';
import { DeliveryService, updateReturning } from '@app/notifications';
import { BullJobScheduler } from '@app/scheduling';
import { CurrentActor } from '../auth/auth.guard';
import { UuidPipe } from '../http/uuid.pipe';
import { DeliveryItemDto, InboxItemDto, ResendAcceptedDto } from './notification.dto';

export const DELIVERY_STATUSES = [
  'pending',
  'sending',
  'delivered',
  'dead',
  'skipped',
  'failed',
] as const;

export class InboxQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean()
  unread?: boolean;

  @ApiPropertyOptional({
    enum: DELIVERY_STATUSES,
    description:
      'admin (and Unione staff, for their own Unione): the notifications on the PEC, e-mail and webhook channels in this delivery status, e.g. `dead`; without it, the caller’s inbox',
  })
  @IsOptional()
  @IsIn(DELIVERY_STATUSES)
  status?: (typeof DELIVERY_STATUSES)[number];
}

export interface InboxItem {
  id: string;
  instanceId: string;
  template: string;
  payload: Record<string, unknown>;
  role: string;
  status: string;
  createdAt: Date;
  readAt: Date | null;
}

export interface DeliveryItem {
  id: string;
  instanceId: string;
  eventSeq: number;
  tenant: string;
  channel: string;
  template: string;
  recipientEnte: string;
  recipientRole: string;
  status: string;
  attempts: number;
  lastError: string | null;
  nextAttemptAt: Date | null;
  messageId: string | null;
  pecStatus: string | null;
  pecDeliveredAt: Date | null;
  createdAt: Date;
  updatedAt: Date;
  deliveredAt: Date | null;
}

/** Which recipient roles a user reads: the council's notices reach its segretario and sindaco. */
function inboxRoles(actor: Actor): string[] {
  const r = new Set<string>(actor.roles);
  if (r.has('segretario') || r.has('sindaco')) r.add('consiglio');
  return [...r];
}

/** platform admin: every unione; an admin or staff of an unione (token ente = unione): that unione only */
function deliveryScope(actor: Actor): { all: true } | { tenant: string } | null {
  if (actor.roles.includes('admin') && actor.unione === null) return { all: true };
  if (
    (actor.roles.includes('admin') || actor.roles.includes('staff')) &&
    actor.unione !== null &&
    actor.ente === actor.unione
  )
    return { tenant: actor.unione };
  return null;
}

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('v1/notifications')
export class NotificationsController {
  constructor(
    private readonly ds: DataSource,
    private readonly delivery: DeliveryService,
    @Inject(BullJobScheduler) private readonly scheduler: BullJobScheduler,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'listNotifications',
    summary: 'The caller’s inbox, or (status=…) the delivery state of outgoing notifications',
  })
  @ApiExtraModels(InboxItemDto, DeliveryItemDto)
  @ApiOkResponse({
    schema: {
      type: 'array',
      items: {
        oneOf: [{ $ref: getSchemaPath(InboxItemDto) }, { $ref: getSchemaPath(DeliveryItemDto) }],
      },
    },
    description:
      'without status: the in-app inbox of the caller’s ente and roles, newest first; with status: outgoing notifications (no addresses: id, instanceId, eventSeq, tenant, channel, template, recipientEnte, recipientRole, status, attempts, lastError, nextAttemptAt, messageId, pecStatus, pecDeliveredAt, createdAt, updatedAt, deliveredAt)',
  })
  @ApiBadRequestResponse({
    description: 'VALIDATION_FAILED: unread is not true or false, unknown status',
  })
  @ApiForbiddenResponse({
    description: 'FORBIDDEN: status=… by someone who is not an admin or Unione staff',
  })
  async inbox(
    @Query() q: InboxQueryDto,
    @CurrentActor() actor: Actor,
  ): Promise<InboxItem[] | DeliveryItem[]> {
    if (q.status) return this.deliveries(q.status, actor);
    if (!actor.ente) return [];
    const rows = await this.ds.query<InboxItem[]>(
      `SELECT id, instance_id AS "instanceId", template, payload - 'roles' AS payload, recipient_role AS "role", status,
              created_at AS "createdAt", read_at AS "readAt"
       FROM outbox WHERE recipient_ente = $1 AND recipient_role = ANY($2) AND tenant = $3 AND channel = 'inbox'
         ${q.unread ? 'AND read_at IS NULL' : ''}
       ORDER BY created_at DESC LIMIT 200`,
      [actor.ente, inboxRoles(actor), actor.unione],
    );
    return rows;
  }

  private async deliveries(status: string, actor: Actor): Promise<DeliveryItem[]> {
    const scope = deliveryScope(actor);
    if (!scope)
      throw new ForbiddenError(
        'Solo un amministratore (o gli uffici dell’Unione) vede lo stato di consegna',
      );
    const params: unknown[] = [status];
    if ('tenant' in scope) params.push(scope.tenant);
    return this.ds.query<DeliveryItem[]>(
      `SELECT id, instance_id AS "instanceId", event_seq AS "eventSeq", tenant, channel, template,
              recipient_ente AS "recipientEnte", recipient_role AS "recipientRole", status, attempts,
              last_error AS "lastError", next_attempt_at AS "nextAttemptAt", message_id AS "messageId",
              pec_status AS "pecStatus", pec_delivered_at AS "pecDeliveredAt", created_at AS "createdAt",
              updated_at AS "updatedAt", delivered_at AS "deliveredAt"
       FROM outbox WHERE status = $1 AND channel <> 'inbox' ${'tenant' in scope ? 'AND tenant = $2' : ''}
       ORDER BY updated_at DESC LIMIT 500`,
      params,
    );
  }

  @Post(':id/resend')
  @HttpCode(202)
  @ApiOperation({
    operationId: 'resendNotification',
    summary: 'Re-send a dead (or skipped) notification: its attempts start again (admin)',
  })
  @ApiAcceptedResponse({ type: ResendAcceptedDto, description: 'queued again' })
  @ApiBadRequestResponse({ description: 'INVALID_ID: not a uuid' })
  @ApiForbiddenResponse({ description: 'FORBIDDEN: not an admin' })
  @ApiNotFoundResponse({ description: 'NOTIFICATION_NOT_FOUND: unknown, or another Unione’s' })
  @ApiUnprocessableEntityResponse({
    description: 'RULE_VIOLATION (NOT_RESENDABLE): not dead, skipped or with a mancata consegna',
  })
  async resend(
    @Param('id', UuidPipe) id: string,
    @CurrentActor() actor: Actor,
  ): Promise<{ id: string; status: 'pending' }> {
    if (!actor.roles.includes('admin'))
      throw new ForbiddenError('Solo un amministratore può reinviare una notifica');
    const found = await this.ds.query<{ status: string; tenant: string; channel: string }[]>(
      `SELECT status, tenant, channel FROM outbox WHERE id = $1`,
      [id],
    );
    const row = found[0];
    if (!row || (actor.unione !== null && row.tenant !== actor.unione))
      throw new NotificationNotFoundError(id);
    const done = await this.delivery.resend(id, actor.subject);
    if (!done) {
      throw new RuleViolationError(
        'NOT_RESENDABLE',
        `La notifica è nello stato ${row.status}: si reinviano solo quelle dead, skipped o con mancata consegna PEC`,
      );
    }
    await this.scheduler.enqueueNotifications([done.batchId]);
    return { id, status: 'pending' };
  }

  @Post(':id/read')
  @HttpCode(204)
  @ApiOperation({ operationId: 'markNotificationRead', summary: 'Mark a notice as read' })
  @ApiNoContentResponse({
    description: 'marked read (again: still 204, the first read time is kept)',
  })
  @ApiBadRequestResponse({ description: 'INVALID_ID: not a uuid' })
  @ApiNotFoundResponse({
    description: 'NOTIFICATION_NOT_FOUND: unknown, or not in the caller’s inbox',
  })
  async markRead(@Param('id', UuidPipe) id: string, @CurrentActor() actor: Actor): Promise<void> {
    const rows = await updateReturning<unknown>(
      this.ds,
      `UPDATE outbox SET read_at = COALESCE(read_at, now())
       WHERE id = $1 AND recipient_ente = $2 AND recipient_role = ANY($3) AND tenant = $4 AND channel = 'inbox'
       RETURNING id`,
      [id, actor.ente, inboxRoles(actor), actor.unione],
    );
    if (rows.length === 0) throw new NotificationNotFoundError(id);
  }
}
