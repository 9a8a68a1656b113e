import { hostname } from 'node:os';
import { type LoggerService } from '@nestjs/common';
import { isSpanContextValid, trace } from '@opentelemetry/api';
import pino, { type DestinationStream, type Level, type Logger } from 'pino';

export interface LoggerOptions {
  readonly service: string;
  readonly level: Level | 'silent';
  /** Where JSON lines go; stdout when omitted (tests pass a stream to read them back). */
  readonly destination?: DestinationStream;
}

export type { Logger };

/**
 * A pino logger writing one JSON object per line, with `service`, an ISO `time`, the level as a
 * label, and `trace_id`/`span_id` of the active OpenTelemetry span when there is one.
 */
export function createLogger(options: LoggerOptions): Logger {
  return pino(
    {
      level: options.level,
      base: { service: options.service, pid: process.pid, hostname: hostname() },
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      mixin: traceFields,
    },
    options.destination ?? pino.destination({ dest: 1, sync: true }),
  );
}

function traceFields(): Record<string, string> {
  const span = trace.getActiveSpan();
  if (span === undefined) return {};
  const context = span.spanContext();
  if (!isSpanContextValid(context)) return {};
  return { trace_id: context.traceId, span_id: context.spanId };
}

type PinoMethod = 'fatal' | 'error' | 'warn' | 'info' | 'debug' | 'trace';

/**
 * NestJS logger backed by pino: `NestFactory.create(AppModule, adapter, { logger: new PinoNestLogger(logger) })`.
 * Follows Nest's calling convention: a trailing string argument is the context, and `error`
 * takes `(message, stack?, context?)`.
 */
export class PinoNestLogger implements LoggerService {
  constructor(private readonly logger: Logger) {}

  log(message: unknown, ...optionalParams: unknown[]): void {
    this.write('info', message, optionalParams);
  }

  error(message: unknown, ...optionalParams: unknown[]): void {
    this.write('error', message, optionalParams, true);
  }

  warn(message: unknown, ...optionalParams: unknown[]): void {
    this.write('warn', message, optionalParams);
  }

  debug(message: unknown, ...optionalParams: unknown[]): void {
    this.write('debug', message, optionalParams);
  }

  verbose(message: unknown, ...optionalParams: unknown[]): void {
    this.write('trace', message, optionalParams);
  }

  fatal(message: unknown, ...optionalParams: unknown[]): void {
    this.write('fatal', message, optionalParams, true);
  }

  private write(method: PinoMethod, message: unknown, optionalParams: unknown[], withStack = false): void {
    if (!this.logger.isLevelEnabled(method)) return;
    const params = [...optionalParams];
    const fields: Record<string, unknown> = {};

    const last = params.at(-1);
    const lonelyStack = withStack && params.length === 1 && typeof last === 'string' && looksLikeStack(last);
    if (typeof last === 'string' && !lonelyStack) {
      fields['context'] = last;
      params.pop();
    }
    if (withStack && params.length > 0) {
      const stack = params.at(-1);
      if (stack === undefined || typeof stack === 'string') {
        params.pop();
        if (stack) fields['stack'] = stack;
      }
    }
    const extra = params.filter((param) => param !== undefined);
    if (extra.length > 0) fields['params'] = extra;

    if (message instanceof Error) {
      this.logger[method]({ ...fields, err: message }, message.message);
    } else if (typeof message === 'object' && message !== null) {
      this.logger[method]({ ...fields, ...(message as Record<string, unknown>) });
    } else {
      this.logger[method](fields, String(message));
    }
  }
}

function looksLikeStack(value: string): boolean {
  return /\n\s+at /.test(value);
}
