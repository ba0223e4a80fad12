import { Column, CreateDateColumn, Entity, PrimaryColumn } from 'typeorm';

@Entity({ name: 'timer' })
export class TimerEntity {
  /** also the BullMQ job id */
  @PrimaryColumn('uuid') id!: string;
  @Column({ name: 'instance_id', type: 'uuid' }) instanceId!: string;
  @Column({ type: 'text' }) key!: string;
  @Column({ type: 'text' }) kind!: 'reminder' | 'deadline';
  @Column({ name: 'due_at', type: 'timestamptz' }) dueAt!: Date;
  @Column({ type: 'jsonb' }) event!: { type: string; payload: Record<string, unknown> };
  @Column({ type: 'text' }) status!: 'armed' | 'fired' | 'cancelled';
  @Column({ name: 'armed_version', type: 'integer' }) armedVersion!: number;
  @Column({ name: 'fired_at', type: 'timestamptz', nullable: true }) firedAt!: Date | null;
  @Column({ name: 'cancelled_at', type: 'timestamptz', nullable: true }) cancelledAt!: Date | null;
  @CreateDateColumn({ name: 'created_at', type: 'timestamptz' }) createdAt!: Date;
}
