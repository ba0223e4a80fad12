import { Column, CreateDateColumn, Entity, PrimaryColumn, UpdateDateColumn } from 'typeorm';

export interface ArmedTimerRef {
  id: string;
  kind: 'reminder' | 'deadline';
  dueAt: string;
}

@Entity({ name: 'process_instance' })
export class ProcessInstanceEntity {
  @PrimaryColumn('uuid') id!: string;
  @Column({ name: 'definition_key', type: 'text' }) definitionKey!: string;
  @Column({ name: 'definition_version', type: 'integer' }) definitionVersion!: number;
  /** codice IPA of the unione: instances of one unione are invisible to every other */
  @Column({ type: 'text' }) tenant!: string;
  @Column({ name: 'business_key', type: 'text' }) businessKey!: string;
  @Column({ type: 'text' }) title!: string;
  @Column({ type: 'text' }) status!: 'active' | 'in_force' | 'completed' | 'failed' | 'terminated';
  /** denormalised state label for lists and filters */
  @Column({ name: 'state_value', type: 'text' }) stateValue!: string;
  /** XState persisted snapshot */
  @Column({ type: 'jsonb' }) snapshot!: Record<string, unknown>;
  /** optimistic lock: +1 per transition, exposed as ETag / If-Match */
  @Column({ type: 'integer' }) version!: number;
  @Column({ type: 'text', array: true }) participants!: string[];
  @Column({ name: 'pending_entes', type: 'text', array: true }) pendingEntes!: string[];
  @Column({ name: 'next_deadline', type: 'timestamptz', nullable: true })
  nextDeadline!: Date | null;
  /** key -> armed timer row, mirrored here so a transition need not read the timer table */
  @Column({ name: 'armed_timers', type: 'jsonb' }) armedTimers!: Record<string, ArmedTimerRef>;
  @Column({ name: 'last_seq', type: 'integer' }) lastSeq!: number;
  @Column({ name: 'last_hash', type: 'text' }) lastHash!: string;
  @Column({ name: 'created_by', type: 'text' }) createdBy!: string;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
  @UpdateDateColumn({ name: 'updated_at', type: 'timestamptz' }) updatedAt!: Date;
}
