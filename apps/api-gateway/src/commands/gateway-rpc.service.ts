import { Inject, Injectable } from '@nestjs/common';
import { GateCheckReply, compile, nothingDecided } from '@bifrost/contracts';
import { InternalError } from '@bifrost/event-sourcing';
import { RpcClient, RpcError } from '@bifrost/messaging';
import { GATEWAY_CONFIG, type GatewayConfig } from '../gateway.config';
import { ProblemError, problemKindOf } from '../http/problem';

/** Requests to the owning services over `bifrost.rpc.*`; an error reply is thrown as `RpcError`. */
@Injectable()
export class GatewayRpc {
  constructor(
    @Inject(RpcClient) private readonly rpc: RpcClient,
    @Inject(GATEWAY_CONFIG) private readonly config: GatewayConfig,
  ) {}

  call<T>(subject: string, data: unknown): Promise<T> {
    return this.rpc.call<T>(subject, data, { timeoutMs: this.config.GATEWAY_RPC_TIMEOUT_MS });
  }

  /**
   * A gate check: an unreachable gate is its own problem type, on which the SDK fails closed. An
   * answer that is not a verdict is an error, never a 200 an HTTP client could take for one.
   */
  async check(data: unknown): Promise<GateCheckReply> {
    let reply: unknown;
    try {
      reply = await this.call<unknown>('bifrost.rpc.gate.check', data);
    } catch (error) {
      if (error instanceof RpcError && problemKindOf(error.code) === 'unavailable') {
        // Nobody decided it: the SDK asks again soon (another replica may answer). Otherwise wait.
        const retryAfter: Record<string, string> = nothingDecided(error.code) ? {} : { 'retry-after': '1' };
        // Its words (the subject asked, the server's message) are for the log, as any 503's.
        throw new ProblemError(
          'gateUnavailable',
          'the gate did not answer: no verdict (fail closed)',
          error.code,
          retryAfter,
        );
      }
      throw error;
    }
    const verdict = isVerdict(reply);
    if (!verdict.ok) {
      throw new InternalError('the gate answered the check without a verdict', {
        code: 'INTERNAL.MALFORMED_REPLY',
      });
    }
    return verdict.value;
  }
}

const isVerdict = compile(GateCheckReply);
