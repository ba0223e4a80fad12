import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'outbox' })
export class OutboxEntity {
  /** also the BullMQ job id */
  @PrimaryColumn('uuid') id!: string;
  @Column({ name: 'instance_id', type: 'uuid' }) instanceId!: string;
  @Column({ name: 'event_seq', type: 'integer' }) eventSeq!: number;
  @Column({ type: 'text' }) tenant!: string;
  @Column({ name: 'recipient_ente', type: 'text' }) recipientEnte!: string;
  @Column({ name: 'recipient_role', type: 'text' }) recipientRole!: string;
  @Column({ type: 'text' }) channel!: 'inbox' | 'pec' | 'email' | 'webhook';
  @Column({ type: 'text' }) template!: string;
  @Column({ type: 'jsonb' }) payload!: Record<string, unknown>;
  @Column({ type: 'text' }) status!:
    'pending' | 'sending' | 'delivered' | 'failed' | 'dead' | 'skipped';
  @Column({ type: 'integer' }) attempts!: number;
  @Column({ name: 'last_error', type: 'text', nullable: true }) lastError!: string | null;
  @Column({ name: 'dedupe_key', type: 'text', unique: true }) dedupeKey!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @Column({ name: 'delivered_at', type: 'timestamptz', nullable: true }) deliveredAt!: Date | null;
  @Column({ name: 'read_at', type: 'timestamptz', nullable: true }) readAt!: Date | null;
}
