import { Column, Entity, PrimaryColumn } from 'typeorm';

/** The audit log. Append-only in the database (see the InitialSchema migration's triggers). */
@Entity({ name: 'process_event' })
export class ProcessEventEntity {
  @PrimaryColumn({ name: 'instance_id', type: 'uuid' }) instanceId!: string;
  @PrimaryColumn({ type: 'integer' }) seq!: number;
  @Column({ type: 'text' }) type!: string;
  @Column({ type: 'jsonb' }) payload!: Record<string, unknown>;
  @Column({ name: 'actor_subject', type: 'text' }) actorSubject!: string;
  @Column({ name: 'actor_role', type: 'text' }) actorRole!: string;
  @Column({ name: 'actor_ente', type: 'text', nullable: true }) actorEnte!: string | null;
  @Column({ name: 'occurred_at', type: 'timestamptz' }) occurredAt!: Date;
  @Column({ name: 'recorded_at', type: 'timestamptz' }) recordedAt!: Date;
  @Column({ name: 'state_before', type: 'text', nullable: true }) stateBefore!: string | null;
  @Column({ name: 'state_after', type: 'text' }) stateAfter!: string;
  @Column({ name: 'version_after', type: 'integer' }) versionAfter!: number;
  @Column({ name: 'snapshot_after', type: 'jsonb' }) snapshotAfter!: Record<string, unknown>;
  @Column({ name: 'idempotency_key', type: 'text', nullable: true }) idempotencyKey!: string | null;
  @Column({ name: 'request_hash', type: 'text', nullable: true }) requestHash!: string | null;
  @Column({ name: 'timer_id', type: 'uuid', nullable: true }) timerId!: string | null;
  @Column({ name: 'prev_hash', type: 'text' }) prevHash!: string;
  @Column({ type: 'text' }) hash!: string;
  @Column({ name: 'hash_version', type: 'smallint' }) hashVersion!: number;
}
