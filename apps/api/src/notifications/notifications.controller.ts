import { Controller, Get, HttpCode, Param, Post, Query } from '@nestjs/common';
import {
  ApiBadRequestResponse,
  ApiBearerAuth,
  ApiNoContentResponse,
  ApiNotFoundResponse,
  ApiOkResponse,
  ApiOperation,
  ApiPropertyOptional,
  ApiTags,
} from '@nestjs/swagger';
import { Transform } from 'class-transformer';
import { IsBoolean, IsOptional } from 'class-validator';
import { DataSource } from 'typeorm';
import type { Actor } from '@app/common';
import { CurrentActor } from '../auth/auth.guard';
import { ApiError } from '../http/api-error';
import { UuidPipe } from '../http/uuid.pipe';
import { InboxItemDto } from './notification.dto';

export class InboxQueryDto {
  @ApiPropertyOptional()
  @IsOptional()
  @Transform(({ value }: { value: unknown }) =>
    value === 'true' ? true : value === 'false' ? false : value,
  )
  @IsBoolean()
  unread?: boolean;
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

/** Which recipient roles a user reads: the council's notices reach its segretario and sindaco. */
function inboxRoles(actor: Actor): string[] {
  const r = new Set<string>(actor.roles);
  if (r.has('segretario') || r.has('sindaco')) r.add('consiglio');
  return [...r];
}

@ApiTags('notifications')
@ApiBearerAuth()
@Controller('v1/notifications')
export class NotificationsController {
  constructor(private readonly ds: DataSource) {}

  @Get()
  @ApiOperation({ operationId: 'listNotifications', summary: 'The caller’s in-app inbox' })
  @ApiOkResponse({
    type: [InboxItemDto],
    description: 'the in-app inbox of the caller’s ente and roles, newest first',
  })
  @ApiBadRequestResponse({ description: 'VALIDATION_FAILED: unread is not true or false' })
  async inbox(@Query() q: InboxQueryDto, @CurrentActor() actor: Actor): Promise<InboxItem[]> {
    if (!actor.ente) return [];
    const rows = await this.ds.query<InboxItem[]>(
      `SELECT id, instance_id AS "instanceId", template, payload, recipient_role AS "role", status,
              created_at AS "createdAt", read_at AS "readAt"
       FROM outbox WHERE recipient_ente = $1 AND recipient_role = ANY($2) AND tenant = $3 AND channel = 'inbox'
         ${q.unread ? 'AND read_at IS NULL' : ''}
       ORDER BY created_at DESC LIMIT 200`,
      [actor.ente, inboxRoles(actor), actor.unione],
    );
    return rows;
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
    // the same notices GET /v1/notifications lists: this ente, these roles, this tenant, the inbox channel.
    // For an UPDATE, TypeORM's DataSource.query answers [rows, affected count], not the rows.
    const [, affected] = await this.ds.query<[unknown[], number]>(
      `UPDATE outbox SET read_at = COALESCE(read_at, now())
       WHERE id = $1 AND recipient_ente = $2 AND recipient_role = ANY($3) AND tenant = $4 AND channel = 'inbox'`,
      [id, actor.ente, inboxRoles(actor), actor.unione],
    );
    if (affected === 0) {
      throw new ApiError(404, 'NOTIFICATION_NOT_FOUND', `Notifica ${id} non trovata`);
    }
  }
}
