import { Controller, Get, Inject } from '@nestjs/common';
import {
  ApiBearerAuth,
  ApiOkResponse,
  ApiOperation,
  ApiProperty,
  ApiPropertyOptional,
  ApiResponse,
  ApiTags,
} from '@nestjs/swagger';
import { DataSource } from 'typeorm';
import { toRomeDate } from '@app/calendar';
import { CLOCK, type Actor, type Clock } from '@app/common';
import { Engine, type ProcessView } from '@app/engine';
import { CurrentActor } from '../auth/auth.guard';

/** How many active processes one "da fare" answer looks at (an Unione runs a handful at a time). */
const MAX_PROCESSES = 100;

export class TodoActionDto {
  @ApiProperty({ example: 'convention.deliberation.record' }) type!: string;
  @ApiProperty() description!: string;
  @ApiPropertyOptional({ type: [String] }) entes?: string[];
}

export class TodoEnteDto {
  @ApiProperty({ example: 'c_g843' }) ente!: string;
  @ApiProperty({ example: 'Pontedera' }) denominazione!: string;
  @ApiProperty({ example: 'INVITED' }) status!: string;
  @ApiProperty({ nullable: true, type: String, example: '2026-04-13' }) deadline!: string | null;
  @ApiProperty({ nullable: true, type: Number }) daysLeft!: number | null;
  @ApiProperty() overdue!: boolean;
}

export class TodoItemDto {
  @ApiProperty() id!: string;
  @ApiProperty() title!: string;
  @ApiProperty({ example: 'convenzione' }) definition!: string;
  @ApiProperty({ example: 'IN_DELIBERATION' }) state!: string;
  @ApiProperty() version!: number;
  @ApiProperty({ type: [TodoActionDto], description: 'what the caller may do now' })
  actions!: TodoActionDto[];
  @ApiProperty({
    nullable: true,
    type: String,
    description:
      'the date (Europe/Rome) by which the caller’s ente — or the first pending ente — must act',
  })
  deadline!: string | null;
  @ApiProperty({ nullable: true, type: Number, description: 'calendar days left (negative: late)' })
  daysLeft!: number | null;
  @ApiProperty() overdue!: boolean;
  @ApiProperty({ type: [TodoEnteDto], description: 'entes that still have a step to take' })
  pendingEntes!: TodoEnteDto[];
}

interface EnteRow {
  ente: string;
  denominazione?: string;
  status?: string;
  deadline?: { date?: string; overdue?: boolean } | null;
}

/** the statuses in which an ente's council term runs (before its vote); afterwards its deadline is met */
const TERM_RUNNING = new Set(['INVITED', 'COUNCIL_CONVENED']);

const DAY = 86_400_000;
/** calendar days from one Rome date to another (both YYYY-MM-DD: no time zone involved) */
export function daysBetween(from: string, to: string): number {
  return Math.round((Date.parse(`${to}T00:00:00Z`) - Date.parse(`${from}T00:00:00Z`)) / DAY);
}

/**
 * "Da fare": the console's first page. For a segretario or sindaco, every process in which its ente has
 * something to do now; for the presidente and staff, their Unione's active processes with the entes still
 * pending; for anyone else (an RTD appointee...), the processes in which they may act now. Most urgent first.
 */
@ApiTags('todo')
@ApiBearerAuth()
@Controller('v1/todo')
export class TodoController {
  constructor(
    private readonly ds: DataSource,
    private readonly engine: Engine,
    @Inject(CLOCK) private readonly clock: Clock,
  ) {}

  @Get()
  @ApiOperation({
    operationId: 'listTodo',
    summary: 'Da fare: what the caller’s ente must do now, most urgent first',
  })
  @ApiOkResponse({ type: [TodoItemDto] })
  @ApiResponse({ status: 401, description: 'UNAUTHENTICATED' })
  async list(@CurrentActor() actor: Actor): Promise<TodoItemDto[]> {
    if (actor.unione === null) return [];
    const rows: { id: string }[] = await this.ds.query(
      `SELECT id FROM process_instance WHERE tenant = $1 AND status = 'active'
       ORDER BY next_deadline ASC NULLS LAST, updated_at DESC LIMIT ${MAX_PROCESSES}`,
      [actor.unione],
    );
    const today = toRomeDate(this.clock.now());
    const overview = actor.roles.some((r) => r === 'presidente' || r === 'staff');
    const items: TodoItemDto[] = [];
    for (const { id } of rows) {
      const view = await this.engine.viewOf(id, actor);
      const item = toItem(view, actor, today, overview);
      if (item) items.push(item);
    }
    return items.sort(
      (a, b) =>
        (a.daysLeft ?? Number.MAX_SAFE_INTEGER) - (b.daysLeft ?? Number.MAX_SAFE_INTEGER) ||
        a.title.localeCompare(b.title, 'it'),
    );
  }
}

export function toItem(
  view: ProcessView,
  actor: Actor,
  today: string,
  overview: boolean,
): TodoItemDto | null {
  const entes = (Array.isArray(view.data['entes']) ? view.data['entes'] : []) as EnteRow[];
  const byEnte = new Map(entes.map((e) => [e.ente, e]));
  const row = (code: string): TodoEnteDto => {
    const e = byEnte.get(code);
    const running = !e?.status || TERM_RUNNING.has(e.status);
    const date = running ? (e?.deadline?.date ?? null) : null;
    const daysLeft = date ? daysBetween(today, date) : null;
    return {
      ente: code,
      denominazione: e?.denominazione ?? code,
      status: e?.status ?? '',
      deadline: date,
      daysLeft,
      overdue: (running && Boolean(e?.deadline?.overdue)) || (daysLeft !== null && daysLeft < 0),
    };
  };
  const pendingEntes = view.pendingEntes.map(row);
  const actions = view.allowedEvents.map((a) => ({
    type: a.type,
    description: a.description,
    ...(a.entes ? { entes: a.entes } : {}),
  }));
  if (actions.length === 0 && !(overview && pendingEntes.length > 0)) return null;
  // the caller's own ente's term when it has one, else the most urgent pending ente's
  const own = actor.ente
    ? pendingEntes.find((p) => p.ente === actor.ente && p.deadline)
    : undefined;
  const first = [...pendingEntes]
    .filter((p) => p.deadline)
    .sort((a, b) => a.deadline!.localeCompare(b.deadline!))[0];
  const ref = own ?? first;
  const fallback = view.nextDeadline ? toRomeDate(new Date(view.nextDeadline)) : null;
  const deadline = ref?.deadline ?? fallback;
  const daysLeft = deadline ? daysBetween(today, deadline) : null;
  return {
    id: view.id,
    title: view.title,
    definition: view.definition.key,
    state: view.state,
    version: view.version,
    actions,
    deadline,
    daysLeft,
    overdue: (ref?.overdue ?? false) || (daysLeft !== null && daysLeft < 0),
    pendingEntes,
  };
}
