import { ApiProperty } from '@nestjs/swagger';

/** One notice of the in-app inbox. */
export class InboxItemDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) instanceId!: string;
  @ApiProperty({ example: 'convention.reminder' }) template!: string;
  @ApiProperty({ type: 'object', additionalProperties: true }) payload!: Record<string, unknown>;
  @ApiProperty({ example: 'consiglio' }) role!: string;
  @ApiProperty({ example: 'pending' }) status!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) readAt!: string | null;
}

/** An outgoing notification (PEC, e-mail, webhook) and its delivery state: never an address. */
export class DeliveryItemDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ format: 'uuid' }) instanceId!: string;
  @ApiProperty() eventSeq!: number;
  @ApiProperty({ example: 'u_valdera' }) tenant!: string;
  @ApiProperty({ enum: ['pec', 'email', 'webhook'] }) channel!: string;
  @ApiProperty({ example: 'convention.sent' }) template!: string;
  @ApiProperty({ example: 'c_g254' }) recipientEnte!: string;
  @ApiProperty({ example: 'consiglio+segretario' }) recipientRole!: string;
  @ApiProperty({ enum: ['pending', 'sending', 'delivered', 'dead', 'skipped', 'failed'] })
  status!: string;
  @ApiProperty() attempts!: number;
  @ApiProperty({ nullable: true, type: String }) lastError!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) nextAttemptAt!: string | null;
  @ApiProperty({ nullable: true, type: String, example: '<uuid@iter.local>' }) messageId!:
    string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    // null listed too: under OpenAPI 3.0.3 `nullable` does not add null to an enum
    enum: ['accettazione', 'avvenuta-consegna', 'mancata-consegna', null],
  })
  pecStatus!: string | null;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) pecDeliveredAt!:
    string | null;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ format: 'date-time' }) updatedAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) deliveredAt!: string | null;
}

export class ResendAcceptedDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ enum: ['pending'] }) status!: 'pending';
}

export class WebhookDto {
  @ApiProperty({ format: 'uuid' }) id!: string;
  @ApiProperty({ example: 'u_valdera' }) unione!: string;
  @ApiProperty({ example: 'https://protocollo.unione-valdera.invalid/iter-webhook' }) url!: string;
  @ApiProperty({ nullable: true, type: String }) description!: string | null;
  @ApiProperty() createdBy!: string;
  @ApiProperty({ format: 'date-time' }) createdAt!: string;
  @ApiProperty({ nullable: true, type: String, format: 'date-time' }) rotatedAt!: string | null;
  @ApiProperty({
    nullable: true,
    type: String,
    format: 'date-time',
    description: 'during a rotation, the previous secret still signs until then',
  })
  previousSecretValidUntil!: string | null;
}

export class WebhookWithSecretDto extends WebhookDto {
  @ApiProperty({ description: 'the signing secret: shown only in this answer', example: 'whsec_…' })
  secret!: string;
}

export class CalendarTokenDto {
  @ApiProperty({ description: 'the ente’s calendar feed token (replaces the previous one)' })
  token!: string;
  @ApiProperty({ example: 'https://iter.example.it/v1/entes/c_g843/calendar.ics?token=…' })
  url!: string;
}
