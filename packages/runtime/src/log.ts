/** How much plug-in logging the host wants; `off` silences plug-ins entirely. */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'off';

/** Where plug-in log lines (and WASI stdout/stderr) go. */
export interface Logger {
  trace(message: string): void;
  debug(message: string): void;
  info(message: string): void;
  warn(message: string): void;
  error(message: string): void;
}

/** Levels in ABI order: `get_log_level` reports the index; off is i32::MAX, as in Extism. */
export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error'] as const;
export const LOG_OFF = 0x7fffffff;

export function logLevelNumber(level: LogLevel, what = 'logLevel'): number {
  if (level === 'off') return LOG_OFF;
  const index = LOG_LEVELS.indexOf(level as (typeof LOG_LEVELS)[number]);
  if (index < 0) throw new TypeError(`${what} must be one of ${[...LOG_LEVELS, 'off'].join(', ')}, got "${level}"`);
  return index;
}

/**
 * The level when the host sets none: TENON_LOG_LEVEL from the environment, else `warn`, so a
 * chatty plug-in run a million times does not flood the host's console by default.
 */
export function defaultLogLevel(): { level: LogLevel; what: string } {
  const fromEnv = process.env.TENON_LOG_LEVEL;
  if (fromEnv === undefined || fromEnv === '') return { level: 'warn', what: 'logLevel' };
  return { level: fromEnv.toLowerCase() as LogLevel, what: 'TENON_LOG_LEVEL' };
}

/** A logger that starts every line with `[name] `, so lines from many plug-ins on one console say whose they are. */
export function prefixedLogger(logger: Logger, name: string): Logger {
  const prefix = `[${name}] `;
  return {
    trace: (message) => logger.trace(prefix + message),
    debug: (message) => logger.debug(prefix + message),
    info: (message) => logger.info(prefix + message),
    warn: (message) => logger.warn(prefix + message),
    error: (message) => logger.error(prefix + message),
  };
}

/** The default logger: the console, one method per level. */
export const consoleLogger: Logger = {
  trace: (message) => console.debug(message),
  debug: (message) => console.debug(message),
  info: (message) => console.info(message),
  warn: (message) => console.warn(message),
  error: (message) => console.error(message),
};
