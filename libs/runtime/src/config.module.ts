import type { DynamicModule } from '@nestjs/common';
import { ConfigModule } from '@nestjs/config';
import { ConfigError, loadConfig } from '@app/common';
import { loadNotificationConfig } from '@app/notifications';

/** a further check of the environment (e.g. the api's session settings): throws an error with `problems` */
export type EnvironmentCheck = (env: NodeJS.ProcessEnv) => unknown;

/**
 * Validates the whole environment at once, against the one schema (libs/common config.ts, through loadConfig)
 * and the notification channels' settings: one ConfigError listing every invalid variable. Returns the
 * environment unchanged (ConfigModule copies what validate returns into process.env: nothing new is added).
 */
export function validateIterEnvironment(
  env: Record<string, unknown>,
  checks: EnvironmentCheck[] = [],
): Record<string, unknown> {
  const problems: string[] = [];
  for (const check of [loadConfig, loadNotificationConfig, ...checks]) {
    try {
      check(env as NodeJS.ProcessEnv);
    } catch (err) {
      const listed = (err as { problems?: unknown }).problems;
      if (!Array.isArray(listed)) throw err;
      problems.push(...(listed as string[]));
    }
  }
  if (problems.length) throw new ConfigError(problems);
  return env;
}

/**
 * @nestjs/config for the api and the worker: ConfigService over the process environment, validated at start-up
 * by validateIterEnvironment; no .env file is read behind the operator's back (docker-compose, systemd and the
 * shell set the environment). The typed configuration the app runs with is ITER_CONFIG (loadConfig()).
 */
export function iterConfigModule(checks: EnvironmentCheck[] = []): Promise<DynamicModule> {
  return ConfigModule.forRoot({
    isGlobal: true,
    ignoreEnvFile: true,
    validate: (env) => validateIterEnvironment(env, checks),
  });
}
